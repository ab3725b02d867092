package io.runicquanta.plugin.jcache;

import java.util.Objects;

/**
 * Key of an entry's metadata in the grid's metadata cache: the JCache (its manager's URI and its
 * name) and the user's key. A plain class, not a record: Ignite's binary marshaller writes fields.
 */
final class MetaKey {
  /** {@link RqCache#cacheId()} of the cache. */
  final String cache;
  /** The user's key. */
  final Object key;

  MetaKey(String cache, Object key) {
    this.cache = cache;
    this.key = key;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MetaKey m && cache.equals(m.cache) && Objects.equals(key, m.key);
  }

  @Override
  public int hashCode() {
    return 31 * cache.hashCode() + Objects.hashCode(key);
  }

  @Override
  public String toString() {
    return cache + ":" + key;
  }
}
