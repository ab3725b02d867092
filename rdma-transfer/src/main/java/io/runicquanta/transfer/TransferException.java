package io.runicquanta.transfer;

/**
 * Base of the transfer engine's failures. Futures returned by {@link TransferEngine#submit} complete
 * exceptionally with a subclass of this (or {@link java.util.concurrent.CancellationException}).
 */
public class TransferException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** @param message what failed, naming the segment, offset, length and rail where known */
  public TransferException(String message) {
    super(message);
  }

  /**
   * @param message what failed
   * @param cause the underlying failure
   */
  public TransferException(String message, Throwable cause) {
    super(message, cause);
  }
}
