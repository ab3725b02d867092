package io.runicquanta.plugin.jcache;

import javax.cache.Cache;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.EventType;

/**
 * A created, updated, removed or expired event of a {@link RqCache}. For updates the old value is
 * the value replaced; for removals and expiries both value and old value are the value that was
 * there, given only when the listener asked for old values (JSR-107 1.1).
 */
final class RqCacheEntryEvent<K, V> extends CacheEntryEvent<K, V> {
  private static final long serialVersionUID = 1L;

  private final K key;
  private final transient V value;
  private final transient V oldValue;
  private final boolean oldValueAvailable;

  RqCacheEntryEvent(Cache<K, V> source, EventType type, K key, V value, V oldValue, boolean oldAvailable) {
    super(source, type);
    this.key = key;
    this.value = value;
    this.oldValue = oldValue;
    this.oldValueAvailable = oldAvailable;
  }

  /** @return this event without its old value */
  RqCacheEntryEvent<K, V> withoutOldValue() {
    if (!oldValueAvailable) {
      return this;
    }
    @SuppressWarnings("unchecked")
    Cache<K, V> src = (Cache<K, V>) getSource();
    // For removals and expiries the value is the old value: without old values, neither is given.
    EventType t = getEventType();
    V v = t == EventType.REMOVED || t == EventType.EXPIRED ? null : value;
    return new RqCacheEntryEvent<>(src, t, key, v, null, false);
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
  public V getOldValue() {
    return oldValueAvailable ? oldValue : null;
  }

  @Override
  public boolean isOldValueAvailable() {
    return oldValueAvailable;
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz != null && clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("event cannot be unwrapped to " + clazz);
  }
}
