package io.runicquanta.master;

/**
 * A request the master refuses, with the kind of refusal and a message a person can act on. Thrown
 * by the master's logic; {@link MasterErrors} turns it into a gRPC status at the service edge.
 */
final class MasterException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why a request was refused; each kind maps to one gRPC status code. */
  enum Kind {
    INVALID_ARGUMENT,
    NOT_FOUND,
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE
  }

  private final Kind kind;

  MasterException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  Kind kind() {
    return kind;
  }

  static MasterException invalid(String message) {
    return new MasterException(Kind.INVALID_ARGUMENT, message);
  }

  static MasterException notFound(String message) {
    return new MasterException(Kind.NOT_FOUND, message);
  }

  static MasterException exists(String message) {
    return new MasterException(Kind.ALREADY_EXISTS, message);
  }

  static MasterException precondition(String message) {
    return new MasterException(Kind.FAILED_PRECONDITION, message);
  }

  static MasterException exhausted(String message) {
    return new MasterException(Kind.RESOURCE_EXHAUSTED, message);
  }

  static MasterException unavailable(String message) {
    return new MasterException(Kind.UNAVAILABLE, message);
  }
}
