package io.runicquanta.plugin.jcache;

import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import java.io.IOException;
import java.util.Objects;

/**
 * How a {@link RqCache} turns one value into one coded object in the grid and back. Every value of
 * a cache is stored as its own object through {@link RqStore} (RaptorQ-coded across the nodes); the
 * codec that wrote it is recorded with the entry by {@link #name()}, so a cache may hold values of
 * several kinds.
 *
 * <p>Built in: {@link ByteArrayCodec} ({@code byte[]}, stored as they are), {@link ArrowTableCodec}
 * (Arrow {@code VectorSchemaRoot}, stored as an Arrow IPC stream) and {@link JavaSerializationCodec}
 * (any other {@link java.io.Serializable}). Add others with {@link
 * RqCacheConfiguration#addCodec(ValueCodec)}; they are consulted before the built-in ones.
 *
 * @param <V> the values it handles
 */
public interface ValueCodec<V> {

  /** @return a short stable name recorded with each entry, unique among a cache's codecs */
  String name();

  /** @return true if this codec can store {@code value} */
  boolean accepts(Object value);

  /**
   * Stores {@code value} as the object {@code objectKey}.
   *
   * @param options the cache's stash options (loss tolerance, block and symbol size)
   */
  void stash(RqStore store, String objectKey, V value, StashOptions options) throws IOException;

  /** @return a new value read back from the object {@code objectKey}; the caller owns it */
  V reveal(RqStore store, String objectKey) throws IOException;

  /** @return true if two values are equal for {@code remove(k, v)} and {@code replace(k, old, new)} */
  default boolean valueEquals(V a, V b) {
    return Objects.deepEquals(a, b);
  }

  /**
   * Releases a value the cache revealed for its own use (an old value compared or shown to
   * listeners). Default: nothing to release.
   */
  default void release(V value) {}
}
