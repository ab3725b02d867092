package io.runicquanta.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.master.MasterAddress;
import io.runicquanta.master.MasterCaches;
import io.runicquanta.testing.SplitMix64;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Byte round trips, errors, list/stat/remove on 4 in-process nodes with the local transport. */
class StashRevealTest {
  static PluginGrid grid;

  @BeforeAll
  static void start() {
    grid = PluginGrid.start("srt", 44000, 44100, 4, b -> b);
  }

  @AfterAll
  static void stop() {
    if (grid != null) {
      grid.close();
    }
  }

  static byte[] roundTrip(RqStore rq, String key, byte[] data) throws Exception {
    StashResult r = rq.stash(key, new ByteArrayInputStream(data), StashOptions.defaults());
    assertEquals(data.length, r.size());
    try (InputStream in = rq.reveal(key)) {
      return in.readAllBytes();
    }
  }

  @Test
  void bytesRoundTripOverSizes() throws Exception {
    RqStore rq = grid.store(0);
    int block = 64 << 10;
    int[] sizes = {0, 1, 1000, block - 1, block, block + 1, 5 * block + 777};
    for (int n : sizes) {
      byte[] data = SplitMix64.bytes(n, n);
      String key = "rt/" + n;
      byte[] back = roundTrip(rq, key, data);
      assertArrayEquals(data, back, "size " + n);
      // reveal from another node too, as a channel
      try (java.nio.channels.ReadableByteChannel ch = grid.store(3).revealChannel(key)) {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocateDirect(n + 1);
        while (ch.read(bb) >= 0) {
          assertTrue(bb.position() <= n);
        }
        bb.flip();
        byte[] got = new byte[bb.remaining()];
        bb.get(got);
        assertArrayEquals(data, got, "size " + n + " from node 3");
      }
      ObjectStat st = rq.stat(key);
      assertEquals(n, st.size());
      assertEquals((n + block - 1) / block, st.blocks());
      assertEquals("HEALTHY", st.health(), st.toString());
      assertTrue(rq.remove(key));
      assertFalse(rq.remove(key));
    }
  }

  @AfterEach
  void onlySegmentsAllocated() {
    for (var n : grid.nodes) {
      RqPlugin p = RqPlugin.of(n);
      long seg = p.segment() == null ? 0 : p.config().segmentSize();
      assertEquals(seg, p.allocator().getAllocatedMemory(),
          "node " + n.name() + " holds work memory after the test");
    }
  }

  /** Size of operation {@code i} of thread {@code t}: bytes to a few MiB, seeded. */
  static int mixedSize(int t, int i) {
    long r = new SplitMix64(t * 1000L + i).nextLong();
    switch (i % 13) {
      case 0:
        return (int) Math.floorMod(r, 1_000_000L) + 2_000_000; // 2 to 3 MB: one per thread
      case 1: case 2: case 3:
        return (int) Math.floorMod(r, 64L); // a few bytes, or none
      case 4: case 5: case 6: case 7:
        return (int) Math.floorMod(r, 70_000L); // up to a block and a bit
      default:
        return (int) Math.floorMod(r, 600_000L) + 1; // several blocks
    }
  }

  /**
   * 8 threads x 13 operations = 104 stashes, each revealed from another node with a SHA-256 check
   * right after, sizes from 0 bytes to 3 MB, default options and also 1 MiB blocks with T = 16 KiB
   * and m = 2; every 4th object removed at once (its key then NOT_FOUND), the others revealed again
   * from a third node once all threads are done, then removed. The {@code @AfterEach} check shows no
   * work memory left on any node.
   */
  @Test
  void manyConcurrentStashAndRevealOfMixedSizes() throws Exception {
    int threads = 8;
    int perThread = 13;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    java.util.Map<String, String> kept = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
    long t0 = System.nanoTime();
    try {
      List<Future<Integer>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int tt = t;
        fs.add(pool.submit(() -> {
          RqStore rq = grid.store(tt % 4);
          RqStore other = grid.store((tt + 1) % 4);
          int ok = 0;
          for (int i = 0; i < perThread; i++) {
            int n = mixedSize(tt, i);
            byte[] d = SplitMix64.bytes(tt * 1000 + i, n);
            String key = "conc/" + tt + "/" + i;
            StashOptions o = (i % 3 == 2)
                ? StashOptions.defaults().blockSize(1 << 20).symbolSize(16384).lossTolerance(2)
                : StashOptions.defaults();
            StashResult r = rq.stash(key, new ByteArrayInputStream(d), o);
            assertEquals(n, r.size(), key);
            String sha = PluginGrid.sha256(d);
            try (InputStream in = other.reveal(key)) {
              assertEquals(sha, PluginGrid.sha256(in.readAllBytes()), key);
            }
            bytes.addAndGet(n);
            if ((tt + i) % 4 == 0) {
              assertTrue(other.remove(key), key);
              RqException e = assertThrows(RqException.class, () -> rq.reveal(key).close());
              assertEquals(RqException.Code.NOT_FOUND, e.code(), e.getMessage());
            } else {
              kept.put(key, sha);
            }
            ok++;
          }
          return ok;
        }));
      }
      int total = 0;
      for (Future<Integer> f : fs) {
        total += f.get(180, TimeUnit.SECONDS);
      }
      assertEquals(threads * perThread, total);
      assertTrue(total >= 100);
    } finally {
      pool.shutdownNow();
    }
    // the kept ones, again, from a node that neither wrote nor read them
    assertEquals(threads * perThread - threads * perThread / 4, kept.size(), kept.keySet().toString());
    assertEquals(kept.size(), grid.store(0).list("conc/.*").size());
    for (java.util.Map.Entry<String, String> e : kept.entrySet()) {
      int tt = Integer.parseInt(e.getKey().split("/")[1]);
      try (InputStream in = grid.store((tt + 2) % 4).reveal(e.getKey())) {
        assertEquals(e.getValue(), PluginGrid.sha256(in.readAllBytes()), e.getKey());
      }
      assertTrue(grid.store(tt % 4).remove(e.getKey()), e.getKey());
    }
    System.out.printf(java.util.Locale.ROOT, "%d concurrent stash+reveal, %.1f MB, %.1f s%n",
        threads * perThread, bytes.get() / 1e6, (System.nanoTime() - t0) / 1e9);
    assertTrue(grid.store(0).list("conc/.*").isEmpty());
  }

  @Test
  void manyOperationsQueueForMemoryInsteadOfFailing() throws Exception {
    // 64 MiB budget; a stash of unknown size with 4 MiB blocks reserves 2 x 5 x 4 MiB, so at
    // most one runs at a time and the others wait their turn
    GridStore rq = (GridStore) grid.store(0);
    int before = rq.budget.availableKiB();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    java.util.concurrent.atomic.AtomicInteger minFree = new java.util.concurrent.atomic.AtomicInteger(before);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        int ii = i;
        fs.add(pool.submit(() -> {
          byte[] d = SplitMix64.bytes(ii, 1000 + ii * 3000);
          rq.stash("q/" + ii, new ByteArrayInputStream(d) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
              minFree.accumulateAndGet(rq.budget.availableKiB(), Math::min);
              return super.read(b, off, len);
            }
          }, StashOptions.defaults().blockSize(4 << 20));
          assertArrayEquals(d, rq.revealBytes("q/" + ii));
          assertTrue(rq.remove("q/" + ii));
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(180, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(before, rq.budget.availableKiB(), "every reservation is given back");
    assertTrue(minFree.get() <= before - 40 * 1024, "a stash reserved its memory: " + minFree);
    assertTrue(minFree.get() >= 0);
  }

  @Test
  void byteArrayConveniences() {
    RqStore rq = grid.store(1);
    byte[] d = SplitMix64.bytes(3, 150_000);
    assertFalse(rq.exists("ba/1"));
    rq.stash("ba/1", d, StashOptions.defaults().lossTolerance(2).blockSize(32 << 10).symbolSize(512));
    assertTrue(rq.exists("ba/1"));
    assertArrayEquals(d, grid.store(2).revealBytes("ba/1"));
    ObjectStat st = rq.stat("ba/1");
    assertEquals(2, st.lossTolerance());
    assertEquals(5, st.blocks());
    assertEquals(2, st.tolerableNow(), st.toString());
    assertTrue(rq.remove("ba/1"));
    assertFalse(rq.exists("ba/1"));
  }

  /** The jar alone does nothing: a server node without RqPluginConfiguration mounts no segment. */
  @Test
  void serverWithoutPluginConfigurationKeepsThePluginOff() {
    var c = io.runicquanta.master.LocalGrid.config("srt-nocfg", 44000, 44100, PluginGrid.RANGE, 32, false);
    Ignite n = grid.start(c);
    try {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> RqPlugin.of(n));
      assertTrue(e.getMessage().contains("no RqPluginConfiguration"), e.getMessage());
      assertEquals("false", n.cluster().localNode().attribute(RqPluginProvider.ATTR_ENABLED));
      // the jar alone leaves the master attribute alone (a node like MasterNodeMain's may host)
      assertNull(n.cluster().localNode().attribute(RqPluginProvider.ATTR_HOST_MASTER));
      MasterAddress a = MasterCaches.address(n).get(MasterCaches.ADDRESS_KEY);
      assertNotEquals(n.cluster().localNode().id().toString(), a.nodeId(),
          "the master stays on a plugin node with hostMaster");
      ClusterStatus st = grid.store(0).status();
      assertEquals(4, st.segments().size(), st.toString());
      assertEquals(5, st.nodes());
    } finally {
      grid.nodes.remove(n);
      Ignition.stop(n.name(), true);
    }
  }

  @Test
  void serverWithoutSegmentAndNotHostingTheMaster() throws Exception {
    var c = io.runicquanta.master.LocalGrid.config("srt-noseg", 44000, 44100, PluginGrid.RANGE, 32, false);
    c.setPluginConfigurations(PluginGrid.testConfig().segmentSize(0).hostMaster(false).build());
    Ignite n = grid.start(c);
    try {
      RqPlugin p = RqPlugin.of(n);
      assertNull(p.segment());
      assertEquals("false", n.cluster().localNode().attribute(RqPluginProvider.ATTR_HOST_MASTER));
      assertEquals(4, p.store().status().segments().size());
      assertEquals(5, p.store().status().nodes());
      byte[] d = SplitMix64.bytes(4, 70_000);
      p.store().stash("noseg/1", d, StashOptions.defaults());
      assertArrayEquals(d, grid.store(0).revealBytes("noseg/1"));
      assertTrue(p.store().remove("noseg/1"));
    } finally {
      grid.nodes.remove(n);
      Ignition.stop(n.name(), true);
    }
  }

  @Test
  void failedSourceLeavesNothing() throws Exception {
    RqStore rq = grid.store(0);
    long free = rq.status().freeBytes();
    byte[] d = SplitMix64.bytes(5, 200_000);
    InputStream failing = new InputStream() {
      int pos;

      @Override
      public int read() throws IOException {
        byte[] b = new byte[1];
        return read(b, 0, 1) < 0 ? -1 : b[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (pos > 150_000) {
          throw new IOException("source broke");
        }
        int n = Math.min(len, d.length - pos);
        System.arraycopy(d, pos, b, off, n);
        pos += n;
        return n;
      }
    };
    IOException e = assertThrows(IOException.class,
        () -> rq.stash("fail/1", failing, StashOptions.defaults()));
    assertEquals("source broke", e.getMessage());
    assertTrue(rq.list("fail/.*").isEmpty());
    assertEquals(RqException.Code.NOT_FOUND,
        assertThrows(RqException.class, () -> rq.stat("fail/1")).code());
    // Removes by earlier tests may still be deferred by read leases (10 s) and free space while
    // this runs, so the free bytes come back to at least what they were before the stash.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    long now = rq.status().freeBytes();
    while (now < free && System.nanoTime() < deadline) {
      Thread.sleep(200);
      now = rq.status().freeBytes();
    }
    assertTrue(now >= free, "a failed stash gives its space back: free " + now + ", before " + free);
  }

  @Test
  void clientNodeStashesButMountsNothing() throws Exception {
    Ignite client = grid.start(grid.configuration("srt-client", true));
    try {
      RqPlugin p = RqPlugin.of(client);
      assertNull(p.segment());
      RqStore rq = p.store();
      assertEquals(4, rq.status().segments().size());
      byte[] d = SplitMix64.bytes(11, 100_000);
      rq.stash("client/1", new ByteArrayInputStream(d), StashOptions.defaults());
      try (InputStream in = grid.store(0).reveal("client/1")) {
        assertArrayEquals(d, in.readAllBytes());
      }
      try (InputStream in = rq.reveal("client/1")) {
        assertArrayEquals(d, in.readAllBytes());
      }
      assertTrue(rq.remove("client/1"));
    } finally {
      grid.nodes.remove(client);
      Ignition.stop(client.name(), true);
    }
  }

  @Test
  void nodeWithoutThePluginJarIsRefusedClearly() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> RqPlugin.of(new org.apache.ignite.internal.IgniteKernal(null) {
          @Override
          public String name() {
            return "bare";
          }

          @Override
          public <T extends org.apache.ignite.plugin.IgnitePlugin> T plugin(String name)
              throws org.apache.ignite.plugin.PluginNotFoundException {
            throw new org.apache.ignite.plugin.PluginNotFoundException(name);
          }
        }));
    assertTrue(e.getMessage().contains("does not run the Runic Quanta plugin"), e.getMessage());
  }

  @Test
  void errors() throws Exception {
    RqStore rq = grid.store(1);
    byte[] data = SplitMix64.bytes(7, 3000);
    rq.stash("err/dup", new ByteArrayInputStream(data), StashOptions.defaults());
    RqException dup = assertThrows(RqException.class,
        () -> rq.stash("err/dup", new ByteArrayInputStream(data), StashOptions.defaults()));
    assertEquals(RqException.Code.ALREADY_EXISTS, dup.code());
    assertEquals(RqException.Code.NOT_FOUND,
        assertThrows(RqException.class, () -> rq.reveal("err/none")).code());
    assertEquals(RqException.Code.NOT_FOUND,
        assertThrows(RqException.class, () -> rq.stat("err/none")).code());
    for (String bad : new String[] {"", ".rq/x", "k".repeat(1025)}) {
      assertEquals(RqException.Code.INVALID_ARGUMENT, assertThrows(RqException.class,
          () -> rq.stash(bad, new ByteArrayInputStream(data), StashOptions.defaults())).code());
    }
    // m = 4 needs 5 nodes; there are 4
    RqException few = assertThrows(RqException.class, () -> rq.stash("err/few",
        new ByteArrayInputStream(data), StashOptions.defaults().lossTolerance(4)));
    assertEquals(RqException.Code.FAILED_PRECONDITION, few.code(), few.getMessage());
    assertTrue(rq.list("err/few").isEmpty());
    assertEquals(RqException.Code.INVALID_ARGUMENT,
        assertThrows(RqException.class, () -> rq.list("(")).code());
    assertTrue(rq.remove("err/dup"));
  }

  @Test
  void listHidesPartsAndStatCounts() throws Exception {
    RqStore rq = grid.store(2);
    for (int i = 0; i < 3; i++) {
      byte[] d = SplitMix64.bytes(100 + i, 70_000 * (i + 1));
      rq.stash("ls/" + i, new ByteArrayInputStream(d), StashOptions.defaults());
    }
    List<ObjectStat> all = rq.list("ls/.*");
    assertEquals(List.of("ls/0", "ls/1", "ls/2"), all.stream().map(ObjectStat::key).toList());
    assertEquals(140_000, all.get(1).size());
    assertEquals(3, all.get(1).blocks());
    assertTrue(rq.list(null).stream().noneMatch(s -> s.key().startsWith(".rq/")));
    assertTrue(rq.list(null).size() >= 3);
    ClusterStatus cs = rq.status();
    assertEquals(4, cs.nodes());
    assertEquals(4, cs.segments().size());
    assertTrue(cs.freeBytes() < cs.totalBytes());
    for (int i = 0; i < 3; i++) {
      assertTrue(rq.remove("ls/" + i));
    }
    assertTrue(rq.list("ls/.*").isEmpty());
  }
}
