package io.runicquanta.transfer;

import io.runicquanta.testing.TestEnv;
import io.runicquanta.transfer.fabric.FabricTransportProvider;
import java.util.Map;

/**
 * The contract on the {@code fabric} transport (libfabric RMA through JNA) with provider {@code
 * tcp;ofi_rxm}, both engines in this JVM. Skips with the probe's reason where libfabric is missing
 * (fails under CI=true).
 */
class FabricTransportContractTest extends AbstractTransportContractTest {
  static final String PROVIDER = "tcp;ofi_rxm";

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
