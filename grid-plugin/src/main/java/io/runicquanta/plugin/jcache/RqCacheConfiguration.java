package io.runicquanta.plugin.jcache;

import io.runicquanta.plugin.StashOptions;
import java.util.ArrayList;
import java.util.List;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.MutableConfiguration;

/**
 * A JCache configuration with the Runic Quanta parts: extra value codecs (for example an {@link
 * ArrowTableCodec} with the allocator revealed tables go to) and the stash options of the values'
 * objects (loss tolerance, block and symbol size). A plain {@link MutableConfiguration} works too: it
 * gets the byte[] and Java serialization codecs and the node's stash defaults.
 *
 * <p>Codecs and options are local to the JVM that creates the cache (they hold allocators), so they
 * are not serialized with the configuration.
 *
 * @param <K> key type
 * @param <V> value type
 */
public class RqCacheConfiguration<K, V> extends MutableConfiguration<K, V> {
  private static final long serialVersionUID = 1L;

  private transient List<ValueCodec<?>> codecs = new ArrayList<>();
  private transient StashOptions stashOptions = StashOptions.defaults();

  /** A configuration with JCache's defaults. */
  public RqCacheConfiguration() {}

  /** A copy of another configuration (its Runic Quanta parts too, if it has them). */
  public RqCacheConfiguration(CompleteConfiguration<K, V> other) {
    super(other);
    if (other instanceof RqCacheConfiguration<?, ?> o) {
      codecs = new ArrayList<>(o.codecs());
      stashOptions = o.stashOptions();
    }
  }

  /** Adds a codec, consulted (in order of addition) before the built-in ones. */
  public RqCacheConfiguration<K, V> addCodec(ValueCodec<?> codec) {
    if (codec == null) {
      throw new NullPointerException("codec");
    }
    codecs().add(codec);
    return this;
  }

  /** Sets the options every value is stashed with. */
  public RqCacheConfiguration<K, V> setStashOptions(StashOptions options) {
    if (options == null) {
      throw new NullPointerException("options");
    }
    this.stashOptions = options;
    return this;
  }

  /** @return the added codecs (live list) */
  public List<ValueCodec<?>> codecs() {
    if (codecs == null) {
      codecs = new ArrayList<>();
    }
    return codecs;
  }

  /** @return the options values are stashed with */
  public StashOptions stashOptions() {
    return stashOptions == null ? StashOptions.defaults() : stashOptions;
  }
}
