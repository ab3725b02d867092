package io.runicquanta.transfer;

/**
 * The target refused a request: unknown segment, closed segment, wrong registration key, or a
 * range outside the segment. Never retried on another rail, because every rail would refuse it.
 */
public class TransferRefusedException extends TransferException {
  private static final long serialVersionUID = 1L;

  /** @param message why the target refused, naming segment, offset, length and segment length */
  public TransferRefusedException(String message) {
    super(message);
  }

  /**
   * @param message why the target refused
   * @param cause the transport's report (for example a libfabric completion error)
   */
  public TransferRefusedException(String message, Throwable cause) {
    super(message, cause);
  }
}
