package io.runicquanta.plugin.jcache;

import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import javax.cache.CacheException;

/**
 * Stores any {@link Serializable} value by Java serialization (store-by-value: a value read back is
 * a copy). Classes are resolved with the cache's class loader.
 */
public final class JavaSerializationCodec implements ValueCodec<Object> {
  /** The name recorded with entries. */
  public static final String NAME = "java";

  private final ClassLoader classLoader;

  /** @param classLoader loader for the classes of revealed values; null for this class's loader */
  public JavaSerializationCodec(ClassLoader classLoader) {
    this.classLoader = classLoader == null ? JavaSerializationCodec.class.getClassLoader() : classLoader;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean accepts(Object value) {
    return value instanceof Serializable;
  }

  /** @return the serialized form of {@code value} */
  static byte[] serialize(Object value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    } catch (IOException e) {
      throw new CacheException("cannot serialize a value of " + value.getClass().getName() + ": " + e, e);
    }
    return bytes.toByteArray();
  }

  @Override
  public void stash(RqStore store, String objectKey, Object value, StashOptions options)
      throws IOException {
    byte[] bytes = serialize(value);
    store.stash(objectKey, new ByteArrayInputStream(bytes), SmallValues.options(options, bytes.length));
  }

  @Override
  public Object reveal(RqStore store, String objectKey) throws IOException {
    try (InputStream raw = store.reveal(objectKey);
        ObjectInputStream in =
            new ObjectInputStream(raw) {
              @Override
              protected Class<?> resolveClass(ObjectStreamClass desc)
                  throws IOException, ClassNotFoundException {
                try {
                  return Class.forName(desc.getName(), false, classLoader);
                } catch (ClassNotFoundException e) {
                  return super.resolveClass(desc);
                }
              }
            }) {
      return in.readObject();
    } catch (ClassNotFoundException e) {
      throw new CacheException("value class of object " + objectKey + " not found: " + e.getMessage(), e);
    }
  }
}
