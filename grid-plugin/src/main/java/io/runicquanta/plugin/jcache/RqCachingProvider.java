package io.runicquanta.plugin.jcache;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.WeakHashMap;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteIllegalStateException;
import org.apache.ignite.Ignition;

/**
 * The JCache (JSR-107) provider of Runic Quanta: caches whose values are RaptorQ-coded objects in an
 * Ignite grid. ignite-core ships a provider of its own, so select this one by class name: {@code
 * Caching.getCachingProvider("io.runicquanta.plugin.jcache.RqCachingProvider")} or the system
 * property {@code javax.cache.spi.CachingProvider}.
 *
 * <p>Which grid: the properties key {@value #IGNITE_INSTANCE} (or a URI {@code rq:ignite:<name>})
 * names a started Ignite node that runs the plugin (the production way; the node is not stopped by
 * the provider). Otherwise (the default URI {@value #DEFAULT_URI}) the provider starts one embedded
 * server node on 127.0.0.1 for the JVM (see {@link EmbeddedGrid}), shared by the provider instances
 * of the JVM, and stops it when the last of them is closed ({@link #close()}). Managers closed
 * before that leave their caches' entries in the grid (JCache's close does not destroy); creating a
 * cache of the same name again starts it empty.
 */
public final class RqCachingProvider implements CachingProvider {
  /** The default URI: an embedded one-node grid. */
  public static final String DEFAULT_URI = "rq:embedded";

  /** Property naming a started Ignite instance to use instead of the embedded grid. */
  public static final String IGNITE_INSTANCE = "rq.ignite.instance";

  private final WeakHashMap<ClassLoader, Map<URI, RqCacheManager>> managers = new WeakHashMap<>();
  /** True while this provider holds a reference on the embedded grid (until {@link #close()}). */
  private boolean holdsEmbedded;

  /** Made by {@link javax.cache.Caching} (one per class loader) or by ServiceLoader. */
  public RqCachingProvider() {}

  @Override
  public CacheManager getCacheManager(URI uri, ClassLoader classLoader, Properties properties) {
    URI u = uri == null ? getDefaultURI() : uri;
    ClassLoader cl = classLoader == null ? getDefaultClassLoader() : classLoader;
    Properties p = properties == null ? new Properties() : properties;
    synchronized (managers) {
      Map<URI, RqCacheManager> byUri = managers.computeIfAbsent(cl, k -> new HashMap<>());
      RqCacheManager m = byUri.get(u);
      if (m != null && !m.isClosed()) {
        return m;
      }
      String instance = p.getProperty(IGNITE_INSTANCE);
      if (instance == null && "rq".equals(u.getScheme())) {
        String ssp = u.getSchemeSpecificPart();
        if (ssp != null && ssp.startsWith("ignite:")) {
          instance = ssp.substring("ignite:".length());
        }
      }
      Ignite ignite;
      boolean embedded;
      if (instance != null) {
        try {
          ignite = Ignition.ignite(instance);
        } catch (IgniteIllegalStateException e) {
          throw new CacheException("no started Ignite instance named '" + instance + "' for CacheManager " + u, e);
        }
        embedded = false;
      } else {
        if (!holdsEmbedded) {
          EmbeddedGrid.acquire();
          holdsEmbedded = true;
        }
        ignite = EmbeddedGrid.get();
        embedded = true;
      }
      m = new RqCacheManager(this, u, cl, p, ignite, embedded);
      byUri.put(u, m);
      return m;
    }
  }

  void released(RqCacheManager m) {
    synchronized (managers) {
      Map<URI, RqCacheManager> byUri = managers.get(m.getClassLoader());
      if (byUri != null) {
        byUri.remove(m.getURI(), m);
      }
    }
  }

  @Override
  public ClassLoader getDefaultClassLoader() {
    return getClass().getClassLoader();
  }

  @Override
  public URI getDefaultURI() {
    try {
      return new URI(DEFAULT_URI);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public Properties getDefaultProperties() {
    return new Properties();
  }

  @Override
  public CacheManager getCacheManager(URI uri, ClassLoader classLoader) {
    return getCacheManager(uri, classLoader, getDefaultProperties());
  }

  @Override
  public CacheManager getCacheManager() {
    return getCacheManager(getDefaultURI(), getDefaultClassLoader(), getDefaultProperties());
  }

  @Override
  public void close() {
    List<RqCacheManager> all = new ArrayList<>();
    synchronized (managers) {
      for (Map<URI, RqCacheManager> byUri : managers.values()) {
        all.addAll(byUri.values());
      }
      managers.clear();
    }
    all.forEach(RqCacheManager::close);
    synchronized (managers) {
      if (holdsEmbedded) {
        holdsEmbedded = false;
        EmbeddedGrid.release();
      }
    }
  }

  @Override
  public void close(ClassLoader classLoader) {
    ClassLoader cl = classLoader == null ? getDefaultClassLoader() : classLoader;
    List<RqCacheManager> all;
    synchronized (managers) {
      Map<URI, RqCacheManager> byUri = managers.remove(cl);
      all = byUri == null ? List.of() : new ArrayList<>(byUri.values());
    }
    all.forEach(RqCacheManager::close);
  }

  @Override
  public void close(URI uri, ClassLoader classLoader) {
    URI u = uri == null ? getDefaultURI() : uri;
    ClassLoader cl = classLoader == null ? getDefaultClassLoader() : classLoader;
    RqCacheManager m;
    synchronized (managers) {
      Map<URI, RqCacheManager> byUri = managers.get(cl);
      m = byUri == null ? null : byUri.remove(u);
    }
    if (m != null) {
      m.close();
    }
  }

  @Override
  public boolean isSupported(OptionalFeature feature) {
    return false;
  }
}
