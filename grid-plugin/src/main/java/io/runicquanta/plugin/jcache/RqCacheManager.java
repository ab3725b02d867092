package io.runicquanta.plugin.jcache;

import io.runicquanta.plugin.RqStore;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.Collections;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.spi.CachingProvider;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.cache.CacheAtomicityMode;
import org.apache.ignite.cache.CacheWriteSynchronizationMode;
import org.apache.ignite.configuration.CacheConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JCache {@link CacheManager} over one Ignite node that runs the Runic Quanta plugin. Its caches
 * are {@link RqCache}s: values are coded objects stored through the node's {@link RqStore}, entry
 * metadata is kept in the grid's TRANSACTIONAL cache {@value #META_CACHE} (one backup). A daemon
 * thread sweeps expired entries of this manager's caches about twice a second and retries object
 * removals that failed.
 *
 * <p>Statistics and management MXBeans are registered in the platform MBean server under {@code
 * javax.cache:type=CacheStatistics|CacheConfiguration,CacheManager=<uri>,Cache=<name>}.
 */
public final class RqCacheManager implements CacheManager {
  private static final Logger LOG = LoggerFactory.getLogger(RqCacheManager.class);

  /** Name of the Ignite cache that holds every JCache entry's metadata. */
  public static final String META_CACHE = "rq-jcache-meta";

  private final RqCachingProvider provider;
  private final URI uri;
  private final ClassLoader classLoader;
  private final Properties properties;
  private final Ignite ignite;
  /** True on the provider's embedded grid (which the provider, not the manager, stops). */
  private final boolean embedded;
  private final RqStore store;
  private final IgniteCache<MetaKey, EntryMeta> meta;
  private final ConcurrentHashMap<String, RqCache<?, ?>> caches = new ConcurrentHashMap<>();
  private final Set<String> orphans = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService sweeper;
  private volatile boolean closed;

  RqCacheManager(
      RqCachingProvider provider, URI uri, ClassLoader classLoader, Properties properties, Ignite ignite, boolean embedded) {
    this.provider = provider;
    this.uri = uri;
    this.classLoader = classLoader;
    this.properties = properties;
    this.ignite = ignite;
    this.embedded = embedded;
    this.store = RqStore.of(ignite);
    this.meta =
        ignite.getOrCreateCache(
            new CacheConfiguration<MetaKey, EntryMeta>(META_CACHE)
                .setAtomicityMode(CacheAtomicityMode.TRANSACTIONAL)
                .setBackups(1)
                .setWriteSynchronizationMode(CacheWriteSynchronizationMode.FULL_SYNC));
    this.sweeper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "rq-jcache-sweeper");
              t.setDaemon(true);
              return t;
            });
    sweeper.scheduleWithFixedDelay(this::sweep, 500, 500, TimeUnit.MILLISECONDS);
  }

  private void sweep() {
    try {
      for (RqCache<?, ?> c : caches.values()) {
        if (c.mayExpire() && !c.isClosed()) {
          c.expireDue();
        }
      }
      for (String k : orphans) {
        try {
          store.remove(k);
          orphans.remove(k);
        } catch (RuntimeException e) {
          LOG.debug("orphan {} not removed yet: {}", k, e.toString());
        }
      }
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.warn("JCache sweeper of {} failed; retrying", uri, e);
      }
    }
  }

  /** An object whose removal failed: the sweeper retries it. */
  void orphan(String objectKey) {
    orphans.add(objectKey);
  }

  /** @return true if this manager runs on the provider's embedded one-node grid */
  public boolean embedded() {
    return embedded;
  }

  /** @return the Ignite node this manager works on */
  public Ignite ignite() {
    return ignite;
  }

  /** @return the store values are stashed into */
  public RqStore store() {
    return store;
  }

  @Override
  public CachingProvider getCachingProvider() {
    return provider;
  }

  @Override
  public URI getURI() {
    return uri;
  }

  @Override
  public ClassLoader getClassLoader() {
    return classLoader;
  }

  @Override
  public Properties getProperties() {
    return properties;
  }

  private void open() {
    if (closed) {
      throw new IllegalStateException("CacheManager " + uri + " is closed");
    }
  }

  @Override
  public <K, V, C extends Configuration<K, V>> Cache<K, V> createCache(String cacheName, C configuration) {
    open();
    if (cacheName == null) {
      throw new NullPointerException("cacheName is null");
    }
    if (configuration == null) {
      throw new NullPointerException("configuration is null");
    }
    RqCacheConfiguration<K, V> cfg;
    if (configuration instanceof CompleteConfiguration<K, V> complete) {
      cfg = new RqCacheConfiguration<>(complete);
    } else {
      cfg = new RqCacheConfiguration<>();
      cfg.setTypes(configuration.getKeyType(), configuration.getValueType());
      cfg.setStoreByValue(configuration.isStoreByValue());
    }
    synchronized (caches) {
      if (caches.containsKey(cacheName)) {
        throw new CacheException("a cache named " + cacheName + " already exists in " + uri);
      }
      RqCache<K, V> cache = new RqCache<>(this, cacheName, cfg, meta, store, classLoader);
      caches.put(cacheName, cache);
      if (cfg.isManagementEnabled()) {
        register(cache, "CacheConfiguration", cache.mxBean());
      }
      if (cfg.isStatisticsEnabled()) {
        register(cache, "CacheStatistics", cache.statistics());
      }
      return cache;
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public <K, V> Cache<K, V> getCache(String cacheName, Class<K> keyType, Class<V> valueType) {
    open();
    if (cacheName == null || keyType == null || valueType == null) {
      throw new NullPointerException("cacheName, keyType and valueType must not be null");
    }
    RqCache<?, ?> c = caches.get(cacheName);
    if (c == null) {
      return null;
    }
    CompleteConfiguration<?, ?> cfg = c.getConfiguration(CompleteConfiguration.class);
    if (!keyType.equals(cfg.getKeyType())) {
      throw new ClassCastException(
          "cache " + cacheName + " has key type " + cfg.getKeyType().getName() + ", not " + keyType.getName());
    }
    if (!valueType.equals(cfg.getValueType())) {
      throw new ClassCastException(
          "cache " + cacheName + " has value type " + cfg.getValueType().getName() + ", not " + valueType.getName());
    }
    return (Cache<K, V>) c;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <K, V> Cache<K, V> getCache(String cacheName) {
    open();
    if (cacheName == null) {
      throw new NullPointerException("cacheName is null");
    }
    return (Cache<K, V>) caches.get(cacheName);
  }

  @Override
  public Iterable<String> getCacheNames() {
    open();
    return Collections.unmodifiableSet(new HashSet<>(caches.keySet()));
  }

  @Override
  public void destroyCache(String cacheName) {
    open();
    if (cacheName == null) {
      throw new NullPointerException("cacheName is null");
    }
    RqCache<?, ?> c = caches.get(cacheName);
    if (c != null) {
      c.clearEntries();
      c.close();
    }
  }

  @Override
  public void enableManagement(String cacheName, boolean enabled) {
    open();
    if (cacheName == null) {
      throw new NullPointerException("cacheName is null");
    }
    RqCache<?, ?> c = caches.get(cacheName);
    if (c == null) {
      return;
    }
    c.getConfiguration(RqCacheConfiguration.class).setManagementEnabled(enabled);
    if (enabled) {
      register(c, "CacheConfiguration", c.mxBean());
    } else {
      unregister(c, "CacheConfiguration");
    }
  }

  @Override
  public void enableStatistics(String cacheName, boolean enabled) {
    open();
    if (cacheName == null) {
      throw new NullPointerException("cacheName is null");
    }
    RqCache<?, ?> c = caches.get(cacheName);
    if (c == null) {
      return;
    }
    c.getConfiguration(RqCacheConfiguration.class).setStatisticsEnabled(enabled);
    if (enabled) {
      register(c, "CacheStatistics", c.statistics());
    } else {
      unregister(c, "CacheStatistics");
    }
  }

  /** Called by a cache when it closes: it leaves this manager. */
  void released(RqCache<?, ?> cache) {
    caches.remove(cache.getName(), cache);
    unregister(cache, "CacheConfiguration");
    unregister(cache, "CacheStatistics");
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (RqCache<?, ?> c : caches.values()) {
      try {
        c.close();
      } catch (RuntimeException e) {
        LOG.warn("closing cache {} failed", c.getName(), e);
      }
    }
    sweeper.shutdownNow();
    try {
      sweeper.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    provider.released(this);
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
    if (clazz != null && clazz.isInstance(ignite)) {
      return clazz.cast(ignite);
    }
    throw new IllegalArgumentException("RqCacheManager cannot be unwrapped to " + clazz);
  }

  private static String sanitize(String s) {
    return s == null ? "" : s.replaceAll(",|:|=|\n", ".");
  }

  private ObjectName objectName(RqCache<?, ?> cache, String type) {
    try {
      return new ObjectName(
          "javax.cache:type=" + type + ",CacheManager=" + sanitize(uri.toString()) + ",Cache="
              + sanitize(cache.getName()));
    } catch (Exception e) {
      throw new CacheException("bad MBean name for cache " + cache.getName() + ": " + e.getMessage(), e);
    }
  }

  private void register(RqCache<?, ?> cache, String type, Object bean) {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName on = objectName(cache, type);
    try {
      if (!server.isRegistered(on)) {
        server.registerMBean(bean, on);
      }
    } catch (Exception e) {
      throw new CacheException("registering MBean " + on + " failed: " + e.getMessage(), e);
    }
  }

  private void unregister(RqCache<?, ?> cache, String type) {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName on = objectName(cache, type);
    try {
      if (server.isRegistered(on)) {
        server.unregisterMBean(on);
      }
    } catch (Exception e) {
      LOG.debug("unregistering MBean {} failed", on, e);
    }
  }
}
