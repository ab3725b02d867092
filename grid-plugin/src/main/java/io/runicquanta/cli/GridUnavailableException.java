package io.runicquanta.cli;

/** No grid answered at the discovery addresses, or it answered without a master, in time. */
final class GridUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  GridUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
