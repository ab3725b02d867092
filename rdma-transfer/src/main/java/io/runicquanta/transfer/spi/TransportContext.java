package io.runicquanta.transfer.spi;

import java.util.Map;

/**
 * What an engine gives the transport it opens. Immutable.
 *
 * @param engineName the engine's name, used in thread names and errors
 * @param rails number of rails to open, at least 1
 * @param options transport options, keys prefixed by the transport name (e.g. {@code tcp.host},
 *     {@code fabric.provider}); unmodifiable
 * @param segments the engine's segment table, which the target side checks every remote request
 *     against
 */
public record TransportContext(
    String engineName, int rails, Map<String, String> options, TargetSegments segments) {
  /**
   * @throws IllegalArgumentException if a value is null or {@code rails < 1}
   */
  public TransportContext {
    if (engineName == null || options == null || segments == null) {
      throw new IllegalArgumentException("engineName, options and segments must be non-null");
    }
    if (rails < 1) {
      throw new IllegalArgumentException("rails must be >= 1, got " + rails);
    }
    options = Map.copyOf(options);
  }

  /** The option {@code key}, or {@code defaultValue} when unset. */
  public String option(String key, String defaultValue) {
    return options.getOrDefault(key, defaultValue);
  }
}
