package io.runicquanta.plugin;

/**
 * A stash, reveal or remove that failed, with a status code a program can act on and a message a
 * person can. Codes follow gRPC's names (the master's errors keep theirs).
 */
public class RqException extends RuntimeException {
  /** Why an operation failed. */
  public enum Code {
    INVALID_ARGUMENT,
    NOT_FOUND,
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE,
    DEADLINE_EXCEEDED,
    DATA_LOSS,
    INTERNAL
  }

  private final Code code;

  /**
   * @param code the status
   * @param message what failed and what to do
   * @param cause the underlying error, may be null
   */
  public RqException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /** @return the status */
  public Code code() {
    return code;
  }

  @Override
  public String getMessage() {
    return code + ": " + super.getMessage();
  }
}
