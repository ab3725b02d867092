package io.runicquanta.plugin.jcache;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Factory;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryEventFilter;
import javax.cache.event.CacheEntryExpiredListener;
import javax.cache.event.CacheEntryListener;
import javax.cache.event.CacheEntryListenerException;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;

/** One registered listener: its configuration, the listener and filter its factories made. */
final class ListenerRegistration<K, V> {
  final CacheEntryListenerConfiguration<K, V> config;
  final CacheEntryListener<? super K, ? super V> listener;
  final CacheEntryEventFilter<? super K, ? super V> filter;

  ListenerRegistration(CacheEntryListenerConfiguration<K, V> config) {
    this.config = config;
    Factory<javax.cache.event.CacheEntryListener<? super K, ? super V>> lf = config.getCacheEntryListenerFactory();
    if (lf == null) {
      throw new IllegalArgumentException("CacheEntryListenerConfiguration has no listener factory");
    }
    this.listener = lf.create();
    Factory<CacheEntryEventFilter<? super K, ? super V>> ff = config.getCacheEntryEventFilterFactory();
    this.filter = ff == null ? null : ff.create();
  }

  boolean synchronous() {
    return config.isSynchronous();
  }

  /** Delivers the events (in order) this listener wants and its filter passes. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  void deliver(List<RqCacheEntryEvent<K, V>> events) {
    for (RqCacheEntryEvent<K, V> e : events) {
      boolean wants =
          switch (e.getEventType()) {
            case CREATED -> listener instanceof CacheEntryCreatedListener;
            case UPDATED -> listener instanceof CacheEntryUpdatedListener;
            case REMOVED -> listener instanceof CacheEntryRemovedListener;
            case EXPIRED -> listener instanceof CacheEntryExpiredListener;
          };
      if (!wants) {
        continue;
      }
      RqCacheEntryEvent<K, V> ev = config.isOldValueRequired() ? e : e.withoutOldValue();
      try {
        if (filter != null && !filter.evaluate((CacheEntryEvent) ev)) {
          continue;
        }
        List<CacheEntryEvent<? extends K, ? extends V>> one = new ArrayList<>(1);
        one.add(ev);
        Iterable it = one;
        switch (ev.getEventType()) {
          case CREATED -> ((CacheEntryCreatedListener) listener).onCreated(it);
          case UPDATED -> ((CacheEntryUpdatedListener) listener).onUpdated(it);
          case REMOVED -> ((CacheEntryRemovedListener) listener).onRemoved(it);
          case EXPIRED -> ((CacheEntryExpiredListener) listener).onExpired(it);
        }
      } catch (CacheEntryListenerException ex) {
        throw ex;
      } catch (RuntimeException ex) {
        throw new CacheEntryListenerException("listener " + listener.getClass().getName() + " failed: " + ex, ex);
      }
    }
  }

  void close() {
    for (Object o : new Object[] {listener, filter}) {
      if (o instanceof Closeable c) {
        try {
          c.close();
        } catch (IOException | RuntimeException ignored) {
          // closing a listener must not stop the cache from closing
        }
      }
    }
  }
}
