package io.runicquanta.plugin.jcache;

import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import java.io.IOException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * Stores Arrow tables ({@link VectorSchemaRoot}) as their Arrow IPC stream through {@link
 * RqStore#stash(String, VectorSchemaRoot, StashOptions)}; a value comes back as a new root whose
 * buffers belong to the allocator given here. The caller owns (and closes) every root a cache hands
 * out (get, getAndPut, ...); roots the cache reveals for itself (old values for listeners and
 * comparisons) are closed by the cache once used. A root put into the cache stays the caller's.
 */
public final class ArrowTableCodec implements ValueCodec<VectorSchemaRoot> {
  /** The name recorded with entries. */
  public static final String NAME = "arrow-ipc";

  private final BufferAllocator allocator;

  /** @param allocator where revealed tables' buffers are allocated; the caller keeps it open */
  public ArrowTableCodec(BufferAllocator allocator) {
    if (allocator == null) {
      throw new NullPointerException("allocator");
    }
    this.allocator = allocator;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean accepts(Object value) {
    return value instanceof VectorSchemaRoot;
  }

  @Override
  public void stash(RqStore store, String objectKey, VectorSchemaRoot value, StashOptions options)
      throws IOException {
    store.stash(objectKey, value, options.releaseSource(false));
  }

  @Override
  public VectorSchemaRoot reveal(RqStore store, String objectKey) throws IOException {
    return store.revealTable(objectKey, allocator);
  }

  @Override
  public boolean valueEquals(VectorSchemaRoot a, VectorSchemaRoot b) {
    return a == b || (a != null && b != null && a.equals(b));
  }

  @Override
  public void release(VectorSchemaRoot value) {
    value.close();
  }
}
