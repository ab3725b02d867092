package io.runicquanta.transfer;

/**
 * The contract on the {@code tcp} transport with the peer in a second JVM ({@link TransferPeerMain},
 * started and killed by the tests) over 127.0.0.1.
 */
class TcpTwoProcessContractTest extends AbstractTransportContractTest {
  @Override
  protected String transport() {
    return "tcp";
  }

  @Override
  protected boolean remotePeer() {
    return true;
  }
}
