package io.runicquanta.codec;

/** Base of the codec's unchecked exceptions: bad parameters, corrupt input, undecodable blocks. */
public class CodecException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CodecException(String message) {
    super(message);
  }

  public CodecException(String message, Throwable cause) {
    super(message, cause);
  }
}
