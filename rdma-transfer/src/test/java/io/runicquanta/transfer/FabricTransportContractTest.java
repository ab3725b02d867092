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

  /** The libfabric provider under test. */
  protected String provider() {
    return PROVIDER;
  }

  @Override
  protected Map<String, String> options() {
    return Map.of("fabric.provider", provider());
  }

  @Override
  protected void requireAvailable() {
    Throwable cause = FabricTransportProvider.unavailabilityCause(provider());
    TestEnv.requireOrSkip(cause == null, "libfabric provider " + provider() + " unavailable: " + cause);
  }
}
