package io.runicquanta.transfer;

/** The contract on the {@code tcp} transport, both engines in this JVM over 127.0.0.1. */
class TcpTransportContractTest extends AbstractTransportContractTest {
  @Override
  protected String transport() {
    return "tcp";
  }
}
