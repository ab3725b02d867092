package io.runicquanta.transfer;

import io.runicquanta.testing.TestEnv;
import io.runicquanta.transfer.fabric.FabricTransportProvider;
import java.util.Map;

/**
 * The contract on the {@code fabric} transport over libfabric's {@code shm} provider, both engines in
 * this JVM: the same code path as {@code tcp;ofi_rxm} and RDMA providers. (Between two processes,
 * shm 1.17 here intermittently never completes its connection handshake, fi_write returning
 * -FI_EAGAIN; see the README's transfer section.)
 */
class FabricShmContractTest extends AbstractTransportContractTest {
  static final String PROVIDER = "shm";

  @Override
  protected String transport() {
    return "fabric";
  }

  @Override
  protected Map<String, String> options() {
    return Map.of("fabric.provider", PROVIDER);
  }


  @Override
  protected void requireAvailable() {
    Throwable cause = FabricTransportProvider.unavailabilityCause(PROVIDER);
    TestEnv.requireOrSkip(cause == null, "libfabric provider " + PROVIDER + " unavailable: " + cause);
  }
}
