package io.runicquanta.plugin.jcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.plugin.RqStore;
import java.util.regex.Pattern;
import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;
import org.apache.ignite.IgniteState;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.Test;

/**
 * The default URI needs nothing started: the provider starts its embedded one-node grid (plugin,
 * local transport, m = 0), values are coded objects in it, and closing the provider stops it.
 */
class EmbeddedProviderTest {
  @Test
  void defaultUriStartsAndStopsAnEmbeddedGrid() {
    String old = System.getProperty(EmbeddedGrid.LINGER_PROPERTY);
    System.setProperty(EmbeddedGrid.LINGER_PROPERTY, "0");
    try {
      CachingProvider provider = Caching.getCachingProvider(RqCachingProvider.class.getName());
      CacheManager cm = provider.getCacheManager();
      assertEquals(RqCachingProvider.DEFAULT_URI, cm.getURI().toString());
      assertEquals(IgniteState.STARTED, Ignition.state(EmbeddedGrid.INSTANCE));
      Cache<String, String> c = cm.createCache("embedded", new MutableConfiguration<String, String>());
      c.put("k", "v");
      assertEquals("v", c.get("k"));
      RqStore store = cm.unwrap(RqCacheManager.class).store();
      String prefix = c.unwrap(RqCache.class).objectKeyPrefix();
      var objs = store.list(Pattern.quote(prefix) + ".*");
      assertEquals(1, objs.size(), "the value is one coded object");
      assertEquals(0, objs.get(0).lossTolerance(), "one node: m = 0");
      provider.close();
      assertTrue(cm.isClosed());
      assertEquals(IgniteState.STOPPED, Ignition.state(EmbeddedGrid.INSTANCE), "closing the provider stops the node");
    } finally {
      if (old == null) {
        System.clearProperty(EmbeddedGrid.LINGER_PROPERTY);
      } else {
        System.setProperty(EmbeddedGrid.LINGER_PROPERTY, old);
      }
    }
  }
}
