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
}
