package io.runicquanta.transfer.fabric;

import io.runicquanta.transfer.TransportUnavailableException;
import io.runicquanta.transfer.spi.Transport;
import io.runicquanta.transfer.spi.TransportContext;
import io.runicquanta.transfer.spi.TransportProvider;

/**
 * Provides the {@code fabric} transport (libfabric RMA). Options: {@code fabric.provider} (libfabric
 * provider, default {@code tcp;ofi_rxm}; {@code verbs;ofi_rxm} or {@code efa} on RDMA hardware,
 * {@code shm} within one host), {@code fabric.node} (local address to bind, for example {@code
 * 127.0.0.1}; default: the provider's choice), {@code fabric.idleParkNanos} (how long an idle
 * progress thread parks between polls, default 20000), {@code fabric.stallMillis} (an operation
 * without completion for this long fails its rail towards that peer, default 3000). Unavailable, with the reason, when libfabric
 * cannot be loaded. Thread safe.
 */
public final class FabricTransportProvider implements TransportProvider {
  /** The name configuration uses. */
  public static final String NAME = "fabric";

  /** For {@link java.util.ServiceLoader}. */
  public FabricTransportProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Throwable unavailabilityCause() {
    return LibFabric.unavailabilityCause();
  }

  /**
   * Why {@code provider} cannot do RDM one-sided RMA here, or null when it can. Loads libfabric and
   * asks {@code fi_getinfo}; the result is kept per provider name.
   */
  public static Throwable unavailabilityCause(String provider) {
    Throwable lib = LibFabric.unavailabilityCause();
    return lib != null ? lib : FabricTransport.probe(provider);
  }

  @Override
  public Transport open(TransportContext context) {
    Throwable cause = unavailabilityCause();
    if (cause != null) {
      throw new TransportUnavailableException("fabric transport unavailable: " + cause.getMessage(), cause);
    }
    return new FabricTransport(context);
  }
}
