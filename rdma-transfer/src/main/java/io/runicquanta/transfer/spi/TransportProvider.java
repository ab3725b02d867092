package io.runicquanta.transfer.spi;

/**
 * Factory of one kind of transport, registered under a unique {@link #name()} in {@code
 * META-INF/services/io.runicquanta.transfer.spi.TransportProvider}. Implementations must be public
 * with a public no-argument constructor, and thread safe.
 */
public interface TransportProvider {
  /** The name configuration refers to, e.g. {@code "tcp"}. */
  String name();

  /**
   * Why this transport cannot run here (native library or device missing), or null when it can. The
   * probe runs once and its result is kept, as in netty's {@code Epoll.unavailabilityCause()}.
   */
  Throwable unavailabilityCause();

  /** True when {@link #unavailabilityCause()} is null. */
  default boolean isAvailable() {
    return unavailabilityCause() == null;
  }

  /**
   * Opens a transport with {@code context.rails()} rails. The caller owns the result and must close
   * it.
   *
   * @throws io.runicquanta.transfer.TransportUnavailableException if the transport cannot run here
   * @throws IllegalArgumentException if an option is invalid
   */
  Transport open(TransportContext context);
}
