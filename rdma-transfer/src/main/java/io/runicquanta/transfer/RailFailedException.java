package io.runicquanta.transfer;

/**
 * One rail (an endpoint, connection or NIC) failed for a slice: the connection broke, the peer's
 * endpoint went away, or the rail was closed. The engine retries the slice on the remaining rails of
 * the batch; the batch fails only when no rail is left.
 */
public class RailFailedException extends TransferException {
  private static final long serialVersionUID = 1L;
  private final int rail;

  /**
   * @param rail the local rail index that failed
   * @param message what happened on the rail
   * @param cause the transport's failure, or null
   */
  public RailFailedException(int rail, String message, Throwable cause) {
    super("rail " + rail + ": " + message, cause);
    this.rail = rail;
  }

  /** The local rail index that failed. */
  public int rail() {
    return rail;
  }
}
