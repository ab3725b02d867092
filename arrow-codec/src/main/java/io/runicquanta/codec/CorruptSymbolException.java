package io.runicquanta.codec;

/**
 * A stored encoding symbol is inconsistent with the object it claims to belong to: wrong size, a
 * payload id of another source block, or an ESI out of range. The message names the symbol (file or
 * position), the actual value and the expected one.
 */
public class CorruptSymbolException extends CodecException {
  private static final long serialVersionUID = 1L;

  public CorruptSymbolException(String message) {
    super(message);
  }

  public CorruptSymbolException(String message, Throwable cause) {
    super(message, cause);
  }
}
