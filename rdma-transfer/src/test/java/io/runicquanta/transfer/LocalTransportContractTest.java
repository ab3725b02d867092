package io.runicquanta.transfer;

/** The contract on the {@code local} transport: both engines in this JVM. */
class LocalTransportContractTest extends AbstractTransportContractTest {
  @Override
  protected String transport() {
    return "local";
  }
}
