package io.runicquanta.codec;

/**
 * A layout description (for example the RQ library's {@code _raptorq_layout.json}) is malformed,
 * truncated or inconsistent (blocks that overlap or leave gaps, a missing field, a value of the
 * wrong type). The message names the place and the problem.
 */
public class LayoutFormatException extends CodecException {
  private static final long serialVersionUID = 1L;

  public LayoutFormatException(String message) {
    super(message);
  }

  public LayoutFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
