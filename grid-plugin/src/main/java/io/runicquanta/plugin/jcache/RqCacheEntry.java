package io.runicquanta.plugin.jcache;

import java.util.Objects;
import javax.cache.Cache;

/**
 * An entry a {@link RqCache} hands out (iteration) or gives to a {@code CacheWriter}: a key and a
 * value, immutable.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class RqCacheEntry<K, V> implements Cache.Entry<K, V> {
  private final K key;
  private final V value;

  RqCacheEntry(K key, V value) {
    this.key = key;
    this.value = value;
  }

  @Override
  public K getKey() {
    return key;
  }

  @Override
  public V getValue() {
    return value;
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz != null && clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("RqCacheEntry cannot be unwrapped to " + clazz);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RqCacheEntry<?, ?> e && Objects.equals(key, e.key) && Objects.deepEquals(value, e.value);
  }

  @Override
  public int hashCode() {
    return Objects.hashCode(key);
  }

  @Override
  public String toString() {
    return "RqCacheEntry[" + key + "]";
  }
}
