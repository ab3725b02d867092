package io.runicquanta.plugin.jcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.master.LocalGrid;
import io.runicquanta.plugin.ObjectStat;
import io.runicquanta.plugin.RqPluginConfiguration;
import io.runicquanta.plugin.RqStore;
import io.runicquanta.testing.AllocatorExtension;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.expiry.CreatedExpiryPolicy;
import javax.cache.expiry.Duration;
import javax.cache.spi.CachingProvider;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The JCache of coded values on a grid of two plugin nodes (local transport, loss tolerance 1),
 * reached the production way: a CacheManager naming a started Ignite instance. Every check on
 * objects goes through {@link RqStore#list}: each live entry is exactly one object in the grid.
 */
class RqCacheTest {
  private static final int DISCO = 49100;
  private static final int COMM = 49200;

  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension();

  private static final List<Ignite> nodes = new ArrayList<>();
  private static CachingProvider provider;
  private static CacheManager manager;
  private static CacheManager manager2;

  @BeforeAll
  static void startGrid() {
    for (int i = 0; i < 2; i++) {
      IgniteConfiguration c = LocalGrid.config("jct-" + i, DISCO, COMM, 10, 64, false);
      c.setPluginConfigurations(
          RqPluginConfiguration.builder()
              .transport("local")
              .segmentSize(32L << 20)
              .blockSize(64 << 10)
              .symbolSize(1024)
              .lossTolerance(1)
              .maxMemory(32L << 20)
              .build());
      nodes.add(Ignition.start(c));
    }
    provider = Caching.getCachingProvider(RqCachingProvider.class.getName());
    manager = managerOn("jct-0");
    manager2 = managerOn("jct-1");
  }

  private static CacheManager managerOn(String instance) {
    Properties p = new Properties();
    p.setProperty(RqCachingProvider.IGNITE_INSTANCE, instance);
    return provider.getCacheManager(URI.create("rq:test:" + instance), RqCacheTest.class.getClassLoader(), p);
  }

  @AfterAll
  static void stopGrid() {
    if (provider != null) {
      provider.close();
    }
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Ignition.stop(nodes.get(i).name(), true);
    }
    nodes.clear();
  }

  private static RqStore store() {
    return RqStore.of(nodes.get(0));
  }

  /** @return the grid objects holding values of {@code cache} */
  private static List<ObjectStat> objects(Cache<?, ?> cache) {
    String prefix = cache.unwrap(RqCache.class).objectKeyPrefix();
    return store().list(Pattern.quote(prefix) + ".*");
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void byteArraysRoundTripAsOneCodedObjectPerValue() {
    Cache<String, byte[]> c =
        manager.createCache("bytes", new MutableConfiguration<String, byte[]>().setTypes(String.class, byte[].class));
    try {
      byte[] small = random(100, 1);
      byte[] big = random(300_000, 2);
      c.put("small", small);
      c.put("big", big);
      assertArrayEquals(small, c.get("small"));
      assertArrayEquals(big, c.get("big"));
      List<ObjectStat> objs = objects(c);
      assertEquals(2, objs.size(), objs.toString());
      assertEquals(Set.of(100L, 300_000L), Set.of(objs.get(0).size(), objs.get(1).size()));
      for (ObjectStat s : objs) {
        assertEquals(1, s.lossTolerance(), "node default m applies to values");
        assertEquals("HEALTHY", s.health());
      }
      // a second manager on the other node sees the same entries: metadata and values are in the grid
      Cache<String, byte[]> other =
          manager2.createCache("bytes-view", new MutableConfiguration<String, byte[]>());
      other.close();
      assertTrue(c.containsKey("big"));
    } finally {
      manager.destroyCache("bytes");
    }
    assertTrue(store().list(Pattern.quote(RqCache.OBJECT_PREFIX) + ".*bytes/.*").isEmpty(), "destroy removes the objects");
  }

  @Test
  void arrowTablesRoundTrip(BufferAllocator allocator) {
    RqCacheConfiguration<String, VectorSchemaRoot> cfg = new RqCacheConfiguration<>();
    cfg.addCodec(new ArrowTableCodec(allocator));
    Cache<String, VectorSchemaRoot> c = manager.createCache("tables", cfg);
    try (BigIntVector ids = new BigIntVector("id", allocator);
        VarCharVector names = new VarCharVector("name", allocator)) {
      int rows = 5000;
      ids.allocateNew(rows);
      names.allocateNew(rows);
      for (int i = 0; i < rows; i++) {
        ids.set(i, i * 7L);
        names.setSafe(i, ("row-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      ids.setValueCount(rows);
      names.setValueCount(rows);
      try (VectorSchemaRoot root = VectorSchemaRoot.of(ids, names)) {
        root.setRowCount(rows);
        c.put("t", root);
        assertEquals(rows, root.getRowCount(), "the cache keeps no reference to, and does not release, the caller's table");
        try (VectorSchemaRoot back = c.get("t")) {
          assertTrue(root.equals(back), "the table comes back equal");
          assertFalse(back == root);
        }
        // replace(k, old, new) compares tables by content
        try (VectorSchemaRoot again = c.get("t")) {
          assertTrue(c.replace("t", again, root));
        }
        assertEquals(1, objects(c).size());
        assertEquals("arrow-stream", objects(c).get(0).contentType());
        c.remove("t");
        assertTrue(objects(c).isEmpty());
      }
    } finally {
      manager.destroyCache("tables");
    }
  }

  @Test
  void overwrittenRemovedAndClearedValuesLeaveNoObjects() {
    Cache<Integer, String> c = manager.createCache("leaks", new MutableConfiguration<Integer, String>());
    try {
      for (int i = 0; i < 5; i++) {
        c.put(i, "v" + i);
      }
      assertEquals(5, objects(c).size());
      c.put(0, "again");
      assertEquals("v1", c.getAndPut(1, "again"));
      assertTrue(c.replace(2, "v2", "again"));
      assertFalse(c.replace(2, "v2", "never"));
      assertEquals(5, objects(c).size(), "overwrites free the old value's object");
      assertTrue(c.remove(3));
      assertEquals("v4", c.getAndRemove(4));
      assertEquals(3, objects(c).size());
      c.invoke(0, (e, args) -> { e.remove(); return null; });
      assertEquals(2, objects(c).size());
      c.clear();
      assertTrue(objects(c).isEmpty(), "clear frees every object");
      assertNull(c.get(1));
    } finally {
      manager.destroyCache("leaks");
    }
  }

  @Test
  void expiredValuesAreFreedWithoutAnyAccess() throws Exception {
    MutableConfiguration<String, String> cfg = new MutableConfiguration<String, String>()
        .setExpiryPolicyFactory(CreatedExpiryPolicy.factoryOf(new Duration(TimeUnit.SECONDS, 2)));
    Cache<String, String> c = manager.createCache("expiring", cfg);
    try {
      c.put("a", "1");
      c.put("b", "2");
      assertEquals(2, objects(c).size());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!objects(c).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(objects(c).isEmpty(), "the sweeper removed the expired values' objects");
      assertNull(c.get("a"));
    } finally {
      manager.destroyCache("expiring");
    }
  }

  @Test
  void asyncFormsCompleteWithTheResults() throws Exception {
    Cache<String, byte[]> c = manager.createCache("async", new MutableConfiguration<String, byte[]>());
    try {
      RqCache<String, byte[]> rc = c.unwrap(RqCache.class);
      byte[] v = random(5000, 3);
      CompletableFuture<Void> put = rc.putAsync("k", v);
      put.get(30, TimeUnit.SECONDS);
      assertArrayEquals(v, rc.getAsync("k").get(30, TimeUnit.SECONDS));
      assertTrue(rc.removeAsync("k").get(30, TimeUnit.SECONDS));
      assertFalse(rc.removeAsync("k").get(30, TimeUnit.SECONDS));
      assertNull(rc.getAsync("k").get(30, TimeUnit.SECONDS));
      assertTrue(objects(c).isEmpty());
      assertThrows(NullPointerException.class, () -> rc.getAsync(null));
    } finally {
      manager.destroyCache("async");
    }
  }

  @Test
  void invokeIsAtomicAcrossNodes() throws Exception {
    // a second JVM's view of the same cache: same manager URI, another node of the grid
    Properties p = new Properties();
    p.setProperty(RqCachingProvider.IGNITE_INSTANCE, "jct-1");
    CachingProvider second = new RqCachingProvider();
    CacheManager sameUriOtherNode =
        second.getCacheManager(manager.getURI(), RqCacheTest.class.getClassLoader(), p);
    Cache<String, Integer> a = manager.createCache("counter", new MutableConfiguration<String, Integer>());
    Cache<String, Integer> b = sameUriOtherNode.createCache("counter", new MutableConfiguration<String, Integer>());
    try {
      a.put("seen", 7);
      assertEquals(7, b.get("seen"), "both nodes see one cache");
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<?>> fs = new ArrayList<>();
      int perThread = 8;
      for (int t = 0; t < 4; t++) {
        Cache<String, Integer> via = t % 2 == 0 ? a : b;
        fs.add(pool.submit(() -> {
          for (int i = 0; i < perThread; i++) {
            via.invoke("n", (e, args) -> {
              e.setValue(e.exists() ? e.getValue() + 1 : 1);
              return null;
            });
          }
        }));
      }
      for (Future<?> f : fs) {
        f.get(120, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertEquals(4 * perThread, a.get("n"), "no increment lost");
      assertEquals(4 * perThread, b.get("n"));
      assertEquals(2, objects(a).size(), "two live values, every replaced one freed");
    } finally {
      second.close();
      manager.destroyCache("counter");
    }
    assertTrue(objects(a).isEmpty());
  }

  @Test
  void putIfAbsentAndReplaceAreAtomicUnderContention() throws Exception {
    Cache<String, String> c = manager.createCache("race", new MutableConfiguration<String, String>());
    try {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<Boolean>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        String v = "w" + t;
        fs.add(pool.submit(() -> c.putIfAbsent("k", v)));
      }
      int winners = 0;
      for (Future<Boolean> f : fs) {
        winners += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
      }
      pool.shutdown();
      assertEquals(1, winners, "exactly one putIfAbsent wins");
      assertEquals(1, objects(c).size(), "losers stored nothing");
    } finally {
      manager.destroyCache("race");
    }
  }

  @Test
  void badInputGetsClearErrors() {
    Cache<String, Object> c = manager.createCache("bad", new MutableConfiguration<String, Object>());
    try {
      CacheException e = assertThrows(CacheException.class, () -> c.put("k", new Object()));
      assertTrue(e.getMessage().contains("no codec stores a value of java.lang.Object"), e.getMessage());
      assertTrue(objects(c).isEmpty(), "nothing half-written");
      assertThrows(NullPointerException.class, () -> c.put(null, "v"));
      assertThrows(NullPointerException.class, () -> c.put("k", null));
      Properties p = new Properties();
      p.setProperty(RqCachingProvider.IGNITE_INSTANCE, "no-such-node");
      CacheException missing = assertThrows(CacheException.class,
          () -> provider.getCacheManager(URI.create("rq:test:missing"), RqCacheTest.class.getClassLoader(), p));
      assertTrue(missing.getMessage().contains("no-such-node"), missing.getMessage());
    } finally {
      manager.destroyCache("bad");
    }
  }

  @Test
  void getAllAndIterationReadEveryValue() {
    Cache<Integer, byte[]> c = manager.createCache("iter", new MutableConfiguration<Integer, byte[]>());
    try {
      for (int i = 0; i < 6; i++) {
        c.put(i, random(1000 + i, i));
      }
      Map<Integer, byte[]> all = c.getAll(Set.of(0, 2, 4, 99));
      assertEquals(Set.of(0, 2, 4), all.keySet());
      assertArrayEquals(random(1002, 2), all.get(2));
      int n = 0;
      for (Cache.Entry<Integer, byte[]> e : c) {
        assertArrayEquals(random(1000 + e.getKey(), e.getKey()), e.getValue());
        n++;
      }
      assertEquals(6, n);
      assertSame(c, manager.getCache("iter"));
    } finally {
      manager.destroyCache("iter");
    }
  }
}
