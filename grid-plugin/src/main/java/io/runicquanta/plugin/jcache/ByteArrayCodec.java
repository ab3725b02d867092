package io.runicquanta.plugin.jcache;

import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Stores {@code byte[]} values byte for byte; a value comes back as a new array. */
public final class ByteArrayCodec implements ValueCodec<byte[]> {
  /** The name recorded with entries. */
  public static final String NAME = "bytes";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean accepts(Object value) {
    return value instanceof byte[];
  }

  @Override
  public void stash(RqStore store, String objectKey, byte[] value, StashOptions options)
      throws IOException {
    store.stash(objectKey, new ByteArrayInputStream(value), SmallValues.options(options, value.length));
  }

  @Override
  public byte[] reveal(RqStore store, String objectKey) throws IOException {
    try (InputStream in = store.reveal(objectKey)) {
      return in.readAllBytes();
    }
  }
}
