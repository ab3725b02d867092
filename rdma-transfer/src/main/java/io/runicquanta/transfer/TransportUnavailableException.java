package io.runicquanta.transfer;

/**
 * A configured transport cannot run on this machine (for example libfabric or the requested
 * provider is missing). The message says why; the cause is the original probe failure.
 */
public class TransportUnavailableException extends TransferException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message which transport and why it is unavailable
   * @param cause the probe failure, or null
   */
  public TransportUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
