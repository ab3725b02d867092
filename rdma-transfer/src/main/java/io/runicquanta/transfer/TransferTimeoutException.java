package io.runicquanta.transfer;

/** A request did not complete within its timeout; the peer may be dead or overloaded. */
public class TransferTimeoutException extends TransferException {
  private static final long serialVersionUID = 1L;

  /** @param message which request timed out and after how long */
  public TransferTimeoutException(String message) {
    super(message);
  }
}
