package io.runicquanta.codec;

/**
 * An FEC Object Transmission Information value (RFC 6330 section 3.3) is malformed: a field is out
 * of its allowed range, the fields are inconsistent with each other, or the encoded form has the
 * wrong length. The message names the field, its value and the allowed range.
 */
public class InvalidOtiException extends CodecException {
  private static final long serialVersionUID = 1L;
  private final String field;

  /**
   * @param field the OTI field at fault (for example {@code "T"} or {@code "Al"})
   * @param message the full explanation, naming the value and what was expected
   */
  public InvalidOtiException(String field, String message) {
    super("invalid OTI: " + message);
    this.field = field;
  }

  /** The name of the field at fault ({@code F}, {@code T}, {@code Z}, {@code N}, {@code Al}, ...). */
  public String field() {
    return field;
  }
}
