package io.runicquanta.plugin.jcache;

import io.runicquanta.plugin.RqException;
import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import java.io.Closeable;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.event.EventType;
import javax.cache.expiry.Duration;
import javax.cache.expiry.EternalExpiryPolicy;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import javax.cache.integration.CacheWriter;
import javax.cache.integration.CacheWriterException;
import javax.cache.integration.CompletionListener;
import javax.cache.processor.EntryProcessor;
import javax.cache.processor.EntryProcessorException;
import javax.cache.processor.EntryProcessorResult;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.binary.BinaryObject;
import org.apache.ignite.cache.query.QueryCursor;
import org.apache.ignite.cache.query.ScanQuery;
import org.apache.ignite.lang.IgniteBiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JSR-107 cache whose values are coded objects in the grid.
 *
 * <h2>Design</h2>
 *
 * <p>Every value is one object stored through {@link RqStore} (RaptorQ-coded across the nodes'
 * segments) under the key {@code .rq-jcache/<manager URI>/<cache name>/<uuid>}, written by the
 * {@link ValueCodec} that accepts it. The entry's metadata ({@link EntryMeta}: object key, codec,
 * version, expiry time) lives in the grid's TRANSACTIONAL Ignite cache {@value
 * RqCacheManager#META_CACHE}, keyed by ({@link #cacheId()}, key). Every operation on a key runs under
 * that key's cluster-wide Ignite lock ({@code IgniteCache.lock}), so putIfAbsent, replace,
 * getAndPut, invoke and the rest are atomic across all JVMs of the grid. A write stashes the new
 * value's object first, then switches the metadata to it, then (after unlocking) removes the object
 * of the value it replaced; a write that fails after its stash removes the new object, so no
 * object outlives its entry. Removed and expired entries' objects are removed the same way.
 *
 * <p>Expiry: absolute expiry times from the {@link ExpiryPolicy} (creation, access, update), checked
 * lazily by every operation (which then removes the entry and fires EXPIRED) and eagerly by the
 * manager's sweeper about twice a second, so an expired value's object is freed even if nobody
 * touches the key again.
 *
 * <p>Listeners, loader, writer and statistics are this JVM's: events are fired for the operations of
 * this JVM's cache instance (synchronous listeners before the operation returns, asynchronous ones in
 * order on one thread per cache).
 *
 * <p>Async forms ({@link #getAsync}, {@link #putAsync}, {@link #removeAsync}) return {@link
 * CompletableFuture}s completed on the cache's own threads.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class RqCache<K, V> implements Cache<K, V> {
  private static final Logger LOG = LoggerFactory.getLogger(RqCache.class);

  /** Prefix of the keys of every object that holds a JCache value. */
  public static final String OBJECT_PREFIX = ".rq-jcache/";

  private static final AtomicInteger THREADS = new AtomicInteger();

  private final RqCacheManager manager;
  private final String name;
  private final String cacheId;
  private final String objectPrefix;
  private final RqCacheConfiguration<K, V> config;
  private final IgniteCache<MetaKey, EntryMeta> meta;
  private final RqStore store;
  private final List<ValueCodec<?>> codecs;
  private final StashOptions stashOptions;
  private final CacheLoader<K, V> loader;
  private final CacheWriter<K, V> writer;
  private final ExpiryPolicy expiry;
  private final CopyOnWriteArrayList<ListenerRegistration<K, V>> listeners = new CopyOnWriteArrayList<>();
  private final RqCacheStatistics stats = new RqCacheStatistics();
  private final RqCacheMXBean mxBean = new RqCacheMXBean(this);
  private final ExecutorService workers;
  private final ExecutorService asyncEvents;
  private volatile boolean closed;
  private volatile boolean mayExpire;

  @SuppressWarnings("unchecked")
  RqCache(
      RqCacheManager manager,
      String name,
      RqCacheConfiguration<K, V> config,
      IgniteCache<MetaKey, EntryMeta> meta,
      RqStore store,
      ClassLoader classLoader) {
    this.manager = manager;
    this.name = name;
    this.cacheId = manager.getURI() + "|" + name;
    this.objectPrefix =
        OBJECT_PREFIX + enc(manager.getURI().toString()) + "/" + enc(name) + "/";
    this.config = config;
    this.meta = meta;
    this.store = store;
    List<ValueCodec<?>> cs = new ArrayList<>(config.codecs());
    cs.add(new ByteArrayCodec());
    cs.add(new JavaSerializationCodec(classLoader));
    this.codecs = List.copyOf(cs);
    this.stashOptions = config.stashOptions();
    this.loader = config.getCacheLoaderFactory() == null ? null : (CacheLoader<K, V>) config.getCacheLoaderFactory().create();
    this.writer = config.getCacheWriterFactory() == null ? null : (CacheWriter<K, V>) config.getCacheWriterFactory().create();
    this.expiry =
        config.getExpiryPolicyFactory() == null
            ? new EternalExpiryPolicy()
            : config.getExpiryPolicyFactory().create();
    this.mayExpire = !(expiry instanceof EternalExpiryPolicy);
    for (CacheEntryListenerConfiguration<K, V> l : config.getCacheEntryListenerConfigurations()) {
      listeners.add(new ListenerRegistration<>(l));
    }
    int n = THREADS.incrementAndGet();
    this.workers =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "rq-jcache-" + name + "-" + n);
              t.setDaemon(true);
              return t;
            });
    this.asyncEvents =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "rq-jcache-events-" + name + "-" + n);
              t.setDaemon(true);
              return t;
            });
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** @return the id of this cache in the metadata cache: manager URI, "|", name */
  String cacheId() {
    return cacheId;
  }

  /** @return the prefix of the keys of this cache's value objects (for {@link RqStore#list}) */
  public String objectKeyPrefix() {
    return objectPrefix;
  }

  RqCacheStatistics statistics() {
    return stats;
  }

  RqCacheMXBean mxBean() {
    return mxBean;
  }

  boolean mayExpire() {
    return mayExpire;
  }

  // ---------------------------------------------------------------- per-key work under the lock

  /**
   * What one operation on one key does while it holds the key's lock, and what it leaves to do
   * after: objects to remove, events to fire, values to release.
   */
  private final class Ctx {
    final K key;
    final MetaKey mk;
    final long now = System.currentTimeMillis();
    final List<RqCacheEntryEvent<K, V>> events = new ArrayList<>(2);
    final List<String> deletes = new ArrayList<>(1);
    final IdentityHashMap<Object, Boolean> owned = new IdentityHashMap<>();
    private EntryMeta cur;
    private boolean read;
    private final Map<String, V> values = new HashMap<>();

    Ctx(K key) {
      this.key = key;
      this.mk = new MetaKey(cacheId, key);
    }

    /** @return the live entry's metadata, null if absent (an expired one is removed first) */
    EntryMeta current() {
      if (!read) {
        read = true;
        EntryMeta m = meta.get(mk);
        if (m != null && m.expiredAt(now)) {
          expire(m);
          m = null;
        }
        cur = m;
      }
      return cur;
    }

    void expire(EntryMeta m) {
      V old = wants(EventType.EXPIRED) ? reveal(m) : null;
      meta.remove(mk);
      deletes.add(m.objectKey);
      if (old != null) {
        events.add(new RqCacheEntryEvent<>(RqCache.this, EventType.EXPIRED, key, old, old, true));
      }
    }

    /** @return the value of {@code m}, revealed once; released after the operation unless handed out */
    V reveal(EntryMeta m) {
      V v = values.get(m.objectKey);
      if (v == null) {
        v = readValue(m);
        values.put(m.objectKey, v);
        owned.put(v, Boolean.TRUE);
      }
      return v;
    }

    /** The caller gets {@code v}: the cache must not release it. */
    V handOut(V v) {
      if (v != null) {
        owned.remove(v);
      }
      return v;
    }

    /** Creates the entry; false (nothing stored, no event) if the policy's creation expiry is zero. */
    boolean create(V value, boolean event) {
      Duration d;
      try {
        d = expiry.getExpiryForCreation();
      } catch (RuntimeException e) {
        d = Duration.ETERNAL;
      }
      if (d == null) {
        d = Duration.ETERNAL;
      }
      if (d.isZero()) {
        return false;
      }
      long at = expiresAt(d);
      write(value, 1, now, at);
      if (event) {
        events.add(new RqCacheEntryEvent<>(RqCache.this, EventType.CREATED, key, value, null, false));
      }
      return true;
    }

    /** Loaded by read-through: created unless the creation expiry is zero. */
    void createLoaded(V value) {
      Duration d;
      try {
        d = expiry.getExpiryForCreation();
      } catch (RuntimeException e) {
        d = Duration.ETERNAL;
      }
      if (d == null) {
        d = Duration.ETERNAL;
      }
      if (d.isZero()) {
        return;
      }
      write(value, 1, now, expiresAt(d));
      events.add(new RqCacheEntryEvent<>(RqCache.this, EventType.CREATED, key, value, null, false));
    }

    void update(EntryMeta old, V value, V oldValue) {
      long at = old.expiresAt;
      try {
        Duration d = expiry.getExpiryForUpdate();
        if (d != null) {
          at = expiresAt(d);
        }
      } catch (RuntimeException e) {
        // keep the expiry time when the policy cannot give one
      }
      write(value, old.version + 1, old.created, at);
      deletes.add(old.objectKey);
      if (wants(EventType.UPDATED)) {
        V ov = oldValue != null ? oldValue : reveal(old);
        events.add(new RqCacheEntryEvent<>(RqCache.this, EventType.UPDATED, key, value, ov, true));
      }
    }

    void remove(EntryMeta old, V oldValue) {
      meta.remove(mk);
      deletes.add(old.objectKey);
      cur = null;
      if (wants(EventType.REMOVED)) {
        V ov = oldValue != null ? oldValue : reveal(old);
        events.add(new RqCacheEntryEvent<>(RqCache.this, EventType.REMOVED, key, ov, ov, true));
      }
    }

    void access(EntryMeta m) {
      try {
        Duration d = expiry.getExpiryForAccess();
        if (d != null) {
          EntryMeta n = m.withExpiry(expiresAt(d));
          meta.put(mk, n);
          cur = n;
        }
      } catch (RuntimeException e) {
        // keep the expiry time when the policy cannot give one
      }
    }

    private long expiresAt(Duration d) {
      if (d.isEternal()) {
        return Long.MAX_VALUE;
      }
      mayExpire = true;
      return d.isZero() ? now : d.getAdjustedTime(now);
    }

    private void write(V value, long version, long created, long at) {
      ValueCodec<Object> codec = codecFor(value);
      String objectKey = objectPrefix + UUID.randomUUID();
      stash(codec, objectKey, value);
      EntryMeta n = new EntryMeta(objectKey, codec.name(), version, created, at);
      try {
        meta.put(mk, n);
      } catch (RuntimeException e) {
        deleteObject(objectKey);
        throw e;
      }
      cur = n;
      read = true;
    }
  }

  private boolean wants(EventType type) {
    for (ListenerRegistration<K, V> l : listeners) {
      if (switch (type) {
        case CREATED -> l.listener instanceof javax.cache.event.CacheEntryCreatedListener;
        case UPDATED -> l.listener instanceof javax.cache.event.CacheEntryUpdatedListener;
        case REMOVED -> l.listener instanceof javax.cache.event.CacheEntryRemovedListener;
        case EXPIRED -> l.listener instanceof javax.cache.event.CacheEntryExpiredListener;
      }) {
        return true;
      }
    }
    return false;
  }

  /** Work on one key under its lock. */
  private interface Body<K, V, R> {
    R run(RqCache<K, V>.Ctx c);
  }

  private <R> R locked(K key, Body<K, V, R> body) {
    Ctx c = new Ctx(key);
    Lock lock = meta.lock(c.mk);
    lock.lock();
    R r;
    try {
      r = body.run(c);
    } catch (RuntimeException | Error e) {
      lock.unlock();
      finish(c, false);
      throw e;
    }
    lock.unlock();
    finish(c, true);
    return r;
  }

  private void finish(Ctx c, boolean dispatch) {
    for (String k : c.deletes) {
      deleteObject(k);
    }
    boolean queued = false;
    try {
      if (dispatch && !c.events.isEmpty()) {
        queued = dispatch(c.events);
      }
    } finally {
      List<Object> owned = new ArrayList<>(c.owned.keySet());
      if (!owned.isEmpty()) {
        Runnable releaseAll = () -> owned.forEach(this::release);
        if (queued) {
          // asynchronous listeners still hold these values: release after them (same thread, in order)
          try {
            asyncEvents.execute(releaseAll);
          } catch (java.util.concurrent.RejectedExecutionException e) {
            releaseAll.run();
          }
        } else {
          releaseAll.run();
        }
      }
    }
  }

  /** @return true if events were queued for asynchronous listeners */
  private boolean dispatch(List<RqCacheEntryEvent<K, V>> events) {
    boolean queued = false;
    RuntimeException failure = null;
    for (ListenerRegistration<K, V> l : listeners) {
      if (l.synchronous()) {
        try {
          l.deliver(events);
        } catch (RuntimeException e) {
          if (failure == null) {
            failure = e;
          }
        }
      } else {
        List<RqCacheEntryEvent<K, V>> copy = List.copyOf(events);
        try {
          asyncEvents.execute(
              () -> {
                try {
                  l.deliver(copy);
                } catch (RuntimeException e) {
                  LOG.warn("asynchronous listener of cache {} failed", name, e);
                }
              });
          queued = true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
          LOG.debug("cache {} closed: events dropped", name);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    return queued;
  }

  // ---------------------------------------------------------------- values as objects

  @SuppressWarnings("unchecked")
  private ValueCodec<Object> codecFor(Object value) {
    for (ValueCodec<?> c : codecs) {
      if (c.accepts(value)) {
        return (ValueCodec<Object>) c;
      }
    }
    throw new CacheException(
        "cache " + name + ": no codec stores a value of " + value.getClass().getName()
            + " (built in: byte[], Serializable; add an ArrowTableCodec for VectorSchemaRoot)");
  }

  @SuppressWarnings("unchecked")
  private ValueCodec<Object> codecNamed(String codecName) {
    for (ValueCodec<?> c : codecs) {
      if (c.name().equals(codecName)) {
        return (ValueCodec<Object>) c;
      }
    }
    throw new CacheException(
        "cache " + name + ": an entry was written with codec '" + codecName
            + "', which this cache instance does not have (add it to its RqCacheConfiguration)");
  }

  private void stash(ValueCodec<Object> codec, String objectKey, Object value) {
    try {
      codec.stash(store, objectKey, value, stashOptions);
    } catch (IOException | RqException e) {
      deleteQuietly(objectKey);
      throw new CacheException("cache " + name + ": storing a value as object " + objectKey + " failed: " + e.getMessage(), e);
    }
  }

  @SuppressWarnings("unchecked")
  private V readValue(EntryMeta m) {
    try {
      return (V) codecNamed(m.codec).reveal(store, m.objectKey);
    } catch (IOException | RqException e) {
      throw new CacheException("cache " + name + ": reading the value object " + m.objectKey + " failed: " + e.getMessage(), e);
    }
  }

  private void deleteQuietly(String objectKey) {
    try {
      store.remove(objectKey);
    } catch (RuntimeException ignored) {
      // it was never stored
    }
  }

  private void deleteObject(String objectKey) {
    try {
      store.remove(objectKey);
    } catch (RuntimeException e) {
      LOG.warn("cache {}: removing value object {} failed; the sweeper retries", name, objectKey, e);
      manager.orphan(objectKey);
    }
  }

  @SuppressWarnings("unchecked")
  private void release(Object v) {
    for (ValueCodec<?> c : codecs) {
      if (c.accepts(v)) {
        try {
          ((ValueCodec<Object>) c).release(v);
        } catch (RuntimeException ignored) {
          // releasing is best effort
        }
        return;
      }
    }
  }

  @SuppressWarnings("unchecked")
  private boolean same(Object a, Object b) {
    if (a == null || b == null) {
      return a == b;
    }
    ValueCodec<Object> c = codecFor(a);
    return c.valueEquals(a, b);
  }

  // ---------------------------------------------------------------- writer and loader

  private void write(K key, V value) {
    if (config.isWriteThrough() && writer != null) {
      try {
        writer.write(new RqCacheEntry<>(key, value));
      } catch (CacheWriterException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new CacheWriterException("CacheWriter.write failed for key " + key + ": " + e, e);
      }
    }
  }

  private void delete(K key) {
    if (config.isWriteThrough() && writer != null) {
      try {
        writer.delete(key);
      } catch (CacheWriterException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new CacheWriterException("CacheWriter.delete failed for key " + key + ": " + e, e);
      }
    }
  }

  private V load(K key) {
    try {
      return loader.load(key);
    } catch (CacheLoaderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CacheLoaderException("CacheLoader.load failed for key " + key + ": " + e, e);
    }
  }

  private boolean readThrough() {
    return config.isReadThrough() && loader != null;
  }

  // ---------------------------------------------------------------- Cache

  private void open() {
    if (closed) {
      throw new IllegalStateException("cache " + name + " is closed");
    }
  }

  private static void nonNull(Object o, String what) {
    if (o == null) {
      throw new NullPointerException(what + " is null");
    }
  }

  private boolean statsOn() {
    return config.isStatisticsEnabled();
  }

  @Override
  public V get(K key) {
    open();
    nonNull(key, "key");
    long t0 = System.nanoTime();
    V v = getOne(key);
    if (statsOn()) {
      stats.getTime(System.nanoTime() - t0);
    }
    return v;
  }

  private V getOne(K key) {
    return locked(
        key,
        c -> {
          EntryMeta m = c.current();
          if (m == null) {
            if (statsOn()) {
              stats.miss(1);
            }
            if (!readThrough()) {
              return null;
            }
            V loaded = load(key);
            if (loaded == null) {
              return null;
            }
            c.createLoaded(loaded);
            return loaded;
          }
          if (statsOn()) {
            stats.hit(1);
          }
          V v = c.reveal(m);
          c.access(m);
          return c.handOut(v);
        });
  }

  @Override
  public Map<K, V> getAll(Set<? extends K> keys) {
    open();
    nonNull(keys, "keys");
    for (K k : keys) {
      nonNull(k, "a key");
    }
    long t0 = System.nanoTime();
    Map<K, V> out = new HashMap<>();
    for (K k : keys) {
      V v = getOne(k);
      if (v != null) {
        out.put(k, v);
      }
    }
    if (statsOn()) {
      stats.getTime(System.nanoTime() - t0);
    }
    return out;
  }

  @Override
  public boolean containsKey(K key) {
    open();
    nonNull(key, "key");
    return locked(key, c -> c.current() != null);
  }

  @Override
  public void loadAll(Set<? extends K> keys, boolean replaceExistingValues, CompletionListener listener) {
    open();
    nonNull(keys, "keys");
    for (K k : keys) {
      nonNull(k, "a key");
    }
    if (loader == null) {
      if (listener != null) {
        listener.onCompletion();
      }
      return;
    }
    List<K> copy = new ArrayList<>(keys);
    workers.execute(
        () -> {
          try {
            List<K> toLoad = new ArrayList<>();
            for (K k : copy) {
              if (replaceExistingValues || !containsKey(k)) {
                toLoad.add(k);
              }
            }
            Map<K, V> loaded;
            try {
              loaded = loader.loadAll(toLoad);
            } catch (CacheLoaderException e) {
              throw e;
            } catch (RuntimeException e) {
              throw new CacheLoaderException("CacheLoader.loadAll failed: " + e, e);
            }
            if (loaded != null) {
              for (Map.Entry<K, V> e : loaded.entrySet()) {
                if (e.getKey() != null && e.getValue() != null) {
                  putLoaded(e.getKey(), e.getValue(), replaceExistingValues);
                }
              }
            }
            if (listener != null) {
              listener.onCompletion();
            }
          } catch (Exception e) {
            if (listener != null) {
              listener.onException(e);
            }
          }
        });
  }

  private void putLoaded(K key, V value, boolean replace) {
    locked(
        key,
        c -> {
          EntryMeta m = c.current();
          if (m == null) {
            if (!c.create(value, true)) {
              return null;
            }
          } else if (replace) {
            c.update(m, value, null);
          } else {
            return null;
          }
          if (statsOn()) {
            stats.put(1);
          }
          return null;
        });
  }

  @Override
  public void put(K key, V value) {
    open();
    nonNull(key, "key");
    nonNull(value, "value");
    long t0 = System.nanoTime();
    boolean stored =
        locked(
        key,
        c -> {
          EntryMeta m = c.current();
          write(key, value);
          if (m == null) {
            return c.create(value, true);
          }
          c.update(m, value, null);
          return true;
        });
    if (statsOn() && stored) {
      stats.put(1);
      stats.putTime(System.nanoTime() - t0);
    }
  }

  @Override
  public V getAndPut(K key, V value) {
    open();
    nonNull(key, "key");
    nonNull(value, "value");
    long t0 = System.nanoTime();
    boolean[] created = new boolean[1];
    V old =
        locked(
            key,
            c -> {
              EntryMeta m = c.current();
              write(key, value);
              if (m == null) {
                created[0] = c.create(value, true);
                return null;
              }
              created[0] = true;
              V o = c.reveal(m);
              c.update(m, value, o);
              return c.handOut(o);
            });
    if (statsOn()) {
      if (created[0]) {
        stats.put(1);
      }
      if (old != null) {
        stats.hit(1);
      } else {
        stats.miss(1);
      }
      stats.putTime(System.nanoTime() - t0);
    }
    return old;
  }

  @Override
  public void putAll(Map<? extends K, ? extends V> map) {
    open();
    nonNull(map, "map");
    for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
      nonNull(e.getKey(), "a key");
      nonNull(e.getValue(), "the value of key " + e.getKey());
    }
    long t0 = System.nanoTime();
    Map<K, V> toPut = new HashMap<>(map);
    CacheWriterException failure = null;
    if (config.isWriteThrough() && writer != null) {
      List<Cache.Entry<? extends K, ? extends V>> entries = new ArrayList<>();
      for (Map.Entry<K, V> e : toPut.entrySet()) {
        entries.add(new RqCacheEntry<>(e.getKey(), e.getValue()));
      }
      try {
        writer.writeAll(entries);
        entries.clear();
      } catch (CacheWriterException e) {
        failure = e;
      } catch (RuntimeException e) {
        failure = new CacheWriterException("CacheWriter.writeAll failed: " + e, e);
      }
      for (Cache.Entry<? extends K, ? extends V> e : entries) {
        toPut.remove(e.getKey());
      }
    }
    int stored = 0;
    for (Map.Entry<K, V> e : toPut.entrySet()) {
      K key = e.getKey();
      V value = e.getValue();
      boolean done =
          locked(
              key,
              c -> {
                EntryMeta m = c.current();
                if (m == null) {
                  return c.create(value, true);
                }
                c.update(m, value, null);
                return true;
              });
      if (done) {
        stored++;
      }
    }
    if (statsOn()) {
      stats.put(stored);
      stats.putTime(System.nanoTime() - t0);
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    open();
    nonNull(key, "key");
    nonNull(value, "value");
    long t0 = System.nanoTime();
    boolean done =
        locked(
            key,
            c -> {
              if (c.current() != null) {
                if (statsOn()) {
                  stats.hit(1);
                }
                return false;
              }
              if (statsOn()) {
                stats.miss(1);
              }
              write(key, value);
              return c.create(value, true);
            });
    if (statsOn() && done) {
      stats.put(1);
      stats.putTime(System.nanoTime() - t0);
    }
    return done;
  }

  @Override
  public boolean remove(K key) {
    open();
    nonNull(key, "key");
    long t0 = System.nanoTime();
    boolean done =
        locked(
            key,
            c -> {
              delete(key);
              EntryMeta m = c.current();
              if (m == null) {
                return false;
              }
              c.remove(m, null);
              return true;
            });
    if (done && statsOn()) {
      stats.removal(1);
      stats.removeTime(System.nanoTime() - t0);
    }
    return done;
  }

  @Override
  public boolean remove(K key, V oldValue) {
    open();
    nonNull(key, "key");
    nonNull(oldValue, "oldValue");
    long t0 = System.nanoTime();
    boolean done =
        locked(
            key,
            c -> {
              EntryMeta m = c.current();
              if (m == null) {
                if (statsOn()) {
                  stats.miss(1);
                }
                return false;
              }
              if (statsOn()) {
                stats.hit(1);
              }
              V cur = c.reveal(m);
              if (!same(cur, oldValue)) {
                c.access(m);
                return false;
              }
              delete(key);
              c.remove(m, cur);
              return true;
            });
    if (done && statsOn()) {
      stats.removal(1);
      stats.removeTime(System.nanoTime() - t0);
    }
    return done;
  }

  @Override
  public V getAndRemove(K key) {
    open();
    nonNull(key, "key");
    long t0 = System.nanoTime();
    V old =
        locked(
            key,
            c -> {
              delete(key);
              EntryMeta m = c.current();
              if (m == null) {
                return null;
              }
              V v = c.reveal(m);
              c.remove(m, v);
              return c.handOut(v);
            });
    if (statsOn()) {
      if (old != null) {
        stats.hit(1);
        stats.removal(1);
        stats.removeTime(System.nanoTime() - t0);
      } else {
        stats.miss(1);
      }
    }
    return old;
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    open();
    nonNull(key, "key");
    nonNull(oldValue, "oldValue");
    nonNull(newValue, "newValue");
    boolean done =
        locked(
            key,
            c -> {
              EntryMeta m = c.current();
              if (m == null) {
                if (statsOn()) {
                  stats.miss(1);
                }
                return false;
              }
              if (statsOn()) {
                stats.hit(1);
              }
              V cur = c.reveal(m);
              if (!same(cur, oldValue)) {
                c.access(m);
                return false;
              }
              write(key, newValue);
              c.update(m, newValue, cur);
              return true;
            });
    if (done && statsOn()) {
      stats.put(1);
    }
    return done;
  }

  @Override
  public boolean replace(K key, V value) {
    open();
    nonNull(key, "key");
    nonNull(value, "value");
    boolean done =
        locked(
            key,
            c -> {
              EntryMeta m = c.current();
              if (m == null) {
                if (statsOn()) {
                  stats.miss(1);
                }
                return false;
              }
              if (statsOn()) {
                stats.hit(1);
              }
              write(key, value);
              c.update(m, value, null);
              return true;
            });
    if (done && statsOn()) {
      stats.put(1);
    }
    return done;
  }

  @Override
  public V getAndReplace(K key, V value) {
    open();
    nonNull(key, "key");
    nonNull(value, "value");
    V old =
        locked(
            key,
            c -> {
              EntryMeta m = c.current();
              if (m == null) {
                return null;
              }
              V o = c.reveal(m);
              write(key, value);
              c.update(m, value, o);
              return c.handOut(o);
            });
    if (statsOn()) {
      if (old != null) {
        stats.hit(1);
        stats.put(1);
      } else {
        stats.miss(1);
      }
    }
    return old;
  }

  @Override
  public void removeAll(Set<? extends K> keys) {
    open();
    nonNull(keys, "keys");
    for (K k : keys) {
      nonNull(k, "a key");
    }
    removeKeys(new LinkedHashSet<>(keys));
  }

  private void removeKeys(Set<K> keys) {
    long t0 = System.nanoTime();
    Set<K> toRemove = new LinkedHashSet<>(keys);
    CacheWriterException failure = null;
    if (config.isWriteThrough() && writer != null && !toRemove.isEmpty()) {
      List<Object> pending = new ArrayList<>(toRemove);
      try {
        writer.deleteAll(pending);
        pending.clear();
      } catch (CacheWriterException e) {
        failure = e;
      } catch (RuntimeException e) {
        failure = new CacheWriterException("CacheWriter.deleteAll failed: " + e, e);
      }
      toRemove.removeAll(new HashSet<>(pending));
    }
    int removed = 0;
    for (K k : toRemove) {
      boolean done =
          locked(
              k,
              c -> {
                EntryMeta m = c.current();
                if (m == null) {
                  return false;
                }
                c.remove(m, null);
                return true;
              });
      if (done) {
        removed++;
      }
    }
    if (statsOn()) {
      stats.removal(removed);
      stats.removeTime(System.nanoTime() - t0);
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void removeAll() {
    open();
    removeKeys(new LinkedHashSet<>(keys()));
  }

  @Override
  public void clear() {
    open();
    clearEntries();
  }

  /** Removes every entry and its object, without writer, listeners or statistics. */
  void clearEntries() {
    for (K k : keys()) {
      locked(
          k,
          c -> {
            EntryMeta m = meta.get(c.mk);
            if (m != null) {
              meta.remove(c.mk);
              c.deletes.add(m.objectKey);
            }
            return null;
          });
    }
  }

  @Override
  public <C extends Configuration<K, V>> C getConfiguration(Class<C> clazz) {
    if (clazz.isInstance(config)) {
      return clazz.cast(config);
    }
    throw new IllegalArgumentException("the configuration of cache " + name + " is not a " + clazz.getName());
  }

  @Override
  public <T> T invoke(K key, EntryProcessor<K, V, T> processor, Object... arguments) {
    open();
    nonNull(key, "key");
    nonNull(processor, "entryProcessor");
    return invokeOne(key, processor, arguments);
  }

  private <T> T invokeOne(K key, EntryProcessor<K, V, T> processor, Object... arguments) {
    long t0 = System.nanoTime();
    return locked(
        key,
        c -> {
          EntryMeta m = c.current();
          if (statsOn()) {
            if (m == null) {
              stats.miss(1);
            } else {
              stats.hit(1);
            }
            stats.getTime(System.nanoTime() - t0);
          }
          RqMutableEntry<K, V> e =
              new RqMutableEntry<>(key, m != null, () -> c.reveal(m), readThrough() ? loader : null);
          T result;
          try {
            result = processor.process(e, arguments);
          } catch (EntryProcessorException ex) {
            throw ex;
          } catch (RuntimeException ex) {
            throw new EntryProcessorException(ex);
          }
          switch (e.op) {
            case NONE -> {}
            case ACCESS -> c.access(m);
            case LOAD -> c.createLoaded(e.newValue());
            case CREATE -> {
              write(key, e.newValue());
              if (c.create(e.newValue(), true) && statsOn()) {
                stats.put(1);
              }
            }
            case UPDATE -> {
              write(key, e.newValue());
              c.update(m, e.newValue(), null);
              if (statsOn()) {
                stats.put(1);
              }
            }
            case REMOVE -> {
              delete(key);
              if (m != null) {
                c.remove(m, null);
                if (statsOn()) {
                  stats.removal(1);
                }
              }
            }
          }
          return result;
        });
  }

  @Override
  public <T> Map<K, EntryProcessorResult<T>> invokeAll(
      Set<? extends K> keys, EntryProcessor<K, V, T> processor, Object... arguments) {
    open();
    nonNull(keys, "keys");
    nonNull(processor, "entryProcessor");
    for (K k : keys) {
      nonNull(k, "a key");
    }
    Map<K, EntryProcessorResult<T>> out = new HashMap<>();
    for (K k : keys) {
      try {
        T r = invokeOne(k, processor, arguments);
        if (r != null) {
          out.put(k, () -> r);
        }
      } catch (RuntimeException e) {
        EntryProcessorException ex =
            e instanceof EntryProcessorException epe ? epe : new EntryProcessorException(e);
        out.put(
            k,
            () -> {
              throw ex;
            });
      }
    }
    return out;
  }

  @Override
  public String getName() {
    return name;
  }

  @Override
  public CacheManager getCacheManager() {
    return manager;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    manager.released(this);
    workers.shutdown();
    asyncEvents.shutdown();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
      asyncEvents.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Object o : new Object[] {loader, writer, expiry}) {
      if (o instanceof Closeable cl) {
        try {
          cl.close();
        } catch (IOException | RuntimeException ignored) {
          // closing the loader, writer or policy must not stop the cache from closing
        }
      }
    }
    for (ListenerRegistration<K, V> l : listeners) {
      l.close();
    }
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz != null && clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("RqCache cannot be unwrapped to " + clazz);
  }

  @Override
  public void registerCacheEntryListener(CacheEntryListenerConfiguration<K, V> listenerConfig) {
    open();
    nonNull(listenerConfig, "cacheEntryListenerConfiguration");
    for (ListenerRegistration<K, V> l : listeners) {
      if (l.config.equals(listenerConfig)) {
        throw new IllegalArgumentException("this listener configuration is already registered");
      }
    }
    ListenerRegistration<K, V> reg = new ListenerRegistration<>(listenerConfig);
    config.addCacheEntryListenerConfiguration(listenerConfig);
    listeners.add(reg);
  }

  @Override
  public void deregisterCacheEntryListener(CacheEntryListenerConfiguration<K, V> listenerConfig) {
    open();
    nonNull(listenerConfig, "cacheEntryListenerConfiguration");
    for (ListenerRegistration<K, V> l : listeners) {
      if (l.config.equals(listenerConfig)) {
        listeners.remove(l);
        config.removeCacheEntryListenerConfiguration(listenerConfig);
        l.close();
      }
    }
  }

  @Override
  public Iterator<Cache.Entry<K, V>> iterator() {
    open();
    Iterator<K> ks = keys().iterator();
    return new Iterator<>() {
      private Cache.Entry<K, V> next;
      private Cache.Entry<K, V> last;

      @Override
      public boolean hasNext() {
        while (next == null && ks.hasNext()) {
          K k = ks.next();
          V v =
              locked(
                  k,
                  c -> {
                    EntryMeta m = c.current();
                    if (m == null) {
                      return null;
                    }
                    V val = c.reveal(m);
                    c.access(m);
                    return c.handOut(val);
                  });
          if (v != null) {
            if (statsOn()) {
              stats.hit(1);
            }
            next = new RqCacheEntry<>(k, v);
          }
        }
        return next != null;
      }

      @Override
      public Cache.Entry<K, V> next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        last = next;
        next = null;
        return last;
      }

      @Override
      public void remove() {
        if (last == null) {
          throw new IllegalStateException("next() was not called, or remove() was already called");
        }
        K k = last.getKey();
        last = null;
        RqCache.this.remove(k);
      }
    };
  }

  // ---------------------------------------------------------------- async forms

  private <T> CompletableFuture<T> async(Supplier<T> op) {
    open();
    return CompletableFuture.supplyAsync(op, workers);
  }

  /** {@link #get} on the cache's threads. */
  public CompletableFuture<V> getAsync(K key) {
    nonNull(key, "key");
    return async(() -> get(key));
  }

  /** {@link #put} on the cache's threads. */
  public CompletableFuture<Void> putAsync(K key, V value) {
    nonNull(key, "key");
    nonNull(value, "value");
    return async(
        () -> {
          put(key, value);
          return null;
        });
  }

  /** {@link #remove(Object)} on the cache's threads; completes with its result. */
  public CompletableFuture<Boolean> removeAsync(K key) {
    nonNull(key, "key");
    return async(() -> remove(key));
  }

  /** {@link #getAndPut} on the cache's threads. */
  public CompletableFuture<V> getAndPutAsync(K key, V value) {
    nonNull(key, "key");
    nonNull(value, "value");
    return async(() -> getAndPut(key, value));
  }

  // ---------------------------------------------------------------- scans

  /** @return the keys of this cache's entries in the grid (expired ones included) */
  @SuppressWarnings("unchecked")
  List<K> keys() {
    List<K> out = new ArrayList<>();
    IgniteCache<Object, Object> bin = meta.withKeepBinary();
    try (QueryCursor<Cache.Entry<Object, Object>> cur =
        bin.query(new ScanQuery<Object, Object>(new SameCache(cacheId, Long.MAX_VALUE)))) {
      for (Cache.Entry<Object, Object> e : cur) {
        out.add((K) toMetaKey(e.getKey()).key);
      }
    }
    return out;
  }

  /** Removes this cache's entries that expired by now (firing EXPIRED); the sweeper calls it. */
  @SuppressWarnings("unchecked")
  void expireDue() {
    if (closed) {
      return;
    }
    long now = System.currentTimeMillis();
    List<K> due = new ArrayList<>();
    IgniteCache<Object, Object> bin = meta.withKeepBinary();
    try (QueryCursor<Cache.Entry<Object, Object>> cur =
        bin.query(new ScanQuery<Object, Object>(new SameCache(cacheId, now)))) {
      for (Cache.Entry<Object, Object> e : cur) {
        due.add((K) toMetaKey(e.getKey()).key);
      }
    }
    for (K k : due) {
      if (closed) {
        return;
      }
      locked(
          k,
          c -> {
            c.current();
            return null;
          });
    }
  }

  private static MetaKey toMetaKey(Object k) {
    return k instanceof BinaryObject b ? b.deserialize() : (MetaKey) k;
  }

  /** Scan filter: entries of one cache, optionally only those expired at a time. */
  static final class SameCache implements IgniteBiPredicate<Object, Object> {
    private static final long serialVersionUID = 1L;
    private final String cache;
    private final long expiredAt;

    SameCache(String cache, long expiredAt) {
      this.cache = cache;
      this.expiredAt = expiredAt;
    }

    @Override
    public boolean apply(Object k, Object v) {
      String c = k instanceof BinaryObject b ? b.field("cache") : ((MetaKey) k).cache;
      if (!cache.equals(c)) {
        return false;
      }
      if (expiredAt == Long.MAX_VALUE) {
        return true;
      }
      long at = v instanceof BinaryObject b ? (Long) b.field("expiresAt") : ((EntryMeta) v).expiresAt;
      return at <= expiredAt;
    }
  }

  /** @return a short description for logs */
  @Override
  public String toString() {
    return "RqCache[" + cacheId + "]";
  }
}
