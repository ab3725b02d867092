package io.runicquanta.transfer.spi;

import io.runicquanta.transfer.RailEndpoint;
import java.util.List;

/**
 * A segment's registration with every rail of a transport. Owned by the engine's segment, which
 * closes it; {@link #close()} is idempotent and safe after the transport closed.
 */
public interface MemoryRegistration extends AutoCloseable {
  /** One endpoint per rail, in rail order, for the segment's descriptor. */
  List<RailEndpoint> endpoints();

  /** Deregisters from every rail. */
  @Override
  void close();

  /**
   * A registration that needs no native deregistration (transports whose target side checks
   * requests in Java, such as {@code local} and {@code tcp}): just the endpoints.
   */
  static MemoryRegistration of(List<RailEndpoint> endpoints) {
    List<RailEndpoint> copy = List.copyOf(endpoints);
    return new MemoryRegistration() {
      @Override
      public List<RailEndpoint> endpoints() {
        return copy;
      }

      @Override
      public void close() {}
    };
  }
}
