package io.runicquanta.plugin.jcache;

import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import javax.cache.processor.MutableEntry;

/**
 * The entry an {@code EntryProcessor} sees inside {@link RqCache#invoke}: reads reveal the current
 * value (or read through the loader), writes are recorded and applied by the cache when the
 * processor returns, under the entry's lock. {@link #op} says what the cache then does.
 */
final class RqMutableEntry<K, V> implements MutableEntry<K, V> {
  /** What the processor did, in the order the cache applies it. */
  enum Op {
    NONE,
    ACCESS,
    LOAD,
    CREATE,
    UPDATE,
    REMOVE
  }

  /** Supplies the current value lazily. */
  interface Current<V> {
    V reveal();
  }

  private final K key;
  private final boolean existed;
  private final Current<V> current;
  private final CacheLoader<K, V> loader;
  private V value;
  Op op = Op.NONE;

  RqMutableEntry(K key, boolean existed, Current<V> current, CacheLoader<K, V> loader) {
    this.key = key;
    this.existed = existed;
    this.current = current;
    this.loader = loader;
  }

  @Override
  public K getKey() {
    return key;
  }

  @Override
  public V getValue() {
    if (op == Op.NONE && existed && value == null) {
      value = current.reveal();
    }
    if (value != null) {
      if (op == Op.NONE) {
        op = Op.ACCESS;
      }
    } else if (loader != null && op != Op.REMOVE) {
      V loaded;
      try {
        loaded = loader.load(key);
      } catch (CacheLoaderException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new CacheLoaderException("CacheLoader failed for key " + key + ": " + e, e);
      }
      if (loaded != null) {
        value = loaded;
        op = Op.LOAD;
      }
    }
    return value;
  }

  /** @return the value the processor set or loaded (null after remove) */
  V newValue() {
    return value;
  }

  @Override
  public boolean exists() {
    return (op == Op.NONE && existed) || value != null;
  }

  @Override
  public void remove() {
    op = (op == Op.CREATE || op == Op.LOAD) && !existed ? Op.NONE : Op.REMOVE;
    value = null;
  }

  @Override
  public void setValue(V v) {
    if (v == null) {
      throw new NullPointerException("MutableEntry.setValue(null)");
    }
    op = existed ? Op.UPDATE : Op.CREATE;
    value = v;
  }

  @Override
  public <T> T unwrap(Class<T> clazz) {
    if (clazz != null && clazz.isInstance(this)) {
      return clazz.cast(this);
    }
    throw new IllegalArgumentException("MutableEntry cannot be unwrapped to " + clazz);
  }
}
