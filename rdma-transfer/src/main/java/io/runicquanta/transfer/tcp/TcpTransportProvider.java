package io.runicquanta.transfer.tcp;

import io.runicquanta.transfer.spi.Transport;
import io.runicquanta.transfer.spi.TransportContext;
import io.runicquanta.transfer.spi.TransportProvider;

/**
 * Provides the {@code tcp} transport. Options: {@code tcp.host} (address peers connect to, default
 * {@code 127.0.0.1}), {@code tcp.bind} (address to listen on, default the host) and {@code
 * tcp.stallMillis} (a connection with slices pending and no progress for this long is failed,
 * default 5000). Always available.
 * Thread safe.
 */
public final class TcpTransportProvider implements TransportProvider {
  /** The name configuration uses. */
  public static final String NAME = "tcp";

  /** For {@link java.util.ServiceLoader}. */
  public TcpTransportProvider() {}

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
    return new TcpTransport(context);
  }
}
