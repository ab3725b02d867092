package io.runicquanta.transfer.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Transport providers by name. {@link #fromServiceLoader()} loads those on the class path; {@link
 * #register} adds one. Duplicate names are rejected. Thread safe.
 */
public final class TransportRegistry {
  private final Map<String, TransportProvider> providers = new LinkedHashMap<>();

  /** An empty registry. */
  public TransportRegistry() {}

  /**
   * A registry of every provider {@link ServiceLoader} finds on the class path.
   *
   * @throws IllegalStateException if two providers share a name
   */
  public static TransportRegistry fromServiceLoader() {
    TransportRegistry r = new TransportRegistry();
    for (TransportProvider p : ServiceLoader.load(TransportProvider.class)) {
      try {
        r.register(p);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("class path holds two transport providers: " + e.getMessage(), e);
      }
    }
    return r;
  }

  /**
   * Adds a provider.
   *
   * @throws IllegalArgumentException if another provider already has its name
   */
  public synchronized void register(TransportProvider provider) {
    String name = provider.name();
    TransportProvider old = providers.putIfAbsent(name, provider);
    if (old != null) {
      throw new IllegalArgumentException(
          "duplicate transport name '" + name + "': " + old.getClass().getName() + " and "
              + provider.getClass().getName());
    }
  }

  /**
   * The provider named {@code name}.
   *
   * @throws IllegalArgumentException if none has that name (the message lists the known names)
   */
  public synchronized TransportProvider provider(String name) {
    TransportProvider p = providers.get(name);
    if (p == null) {
      throw new IllegalArgumentException(
          "unknown transport '" + name + "', known: " + providers.keySet());
    }
    return p;
  }

  /** Names in registration order. */
  public synchronized List<String> names() {
    return Collections.unmodifiableList(List.copyOf(providers.keySet()));
  }
}
