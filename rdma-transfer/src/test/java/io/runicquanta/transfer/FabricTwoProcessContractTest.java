package io.runicquanta.transfer;

/**
 * The contract on the {@code fabric} transport over {@code tcp;ofi_rxm} with the peer in a second JVM
 * ({@link TransferPeerMain}, started and killed by the tests).
 */
class FabricTwoProcessContractTest extends FabricTransportContractTest {
  @Override
  protected boolean remotePeer() {
    return true;
  }
}
