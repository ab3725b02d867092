package io.runicquanta.transfer.local;

import io.runicquanta.transfer.spi.Transport;
import io.runicquanta.transfer.spi.TransportContext;
import io.runicquanta.transfer.spi.TransportProvider;

/** Provides the {@code local} transport (engines in one JVM). Always available. Thread safe. */
public final class LocalTransportProvider implements TransportProvider {
  /** The name configuration uses. */
  public static final String NAME = "local";

  /** For {@link java.util.ServiceLoader}. */
  public LocalTransportProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Throwable unavailabilityCause() {
    return null;
  }

  @Override
  public Transport open(TransportContext context) {
    return new LocalTransport(context);
  }
}
