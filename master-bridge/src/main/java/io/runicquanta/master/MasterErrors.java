package io.runicquanta.master;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.runicquanta.master.proto.ItemStatus;
import javax.cache.CacheException;
import org.apache.ignite.IgniteException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where the master's refusals and failures become gRPC status codes.
 *
 * <ul>
 *   <li>{@link MasterException} kinds map to the same-named codes;
 *   <li>{@link IllegalArgumentException} (a bad value caught by a value type) is INVALID_ARGUMENT;
 *   <li>Ignite and cache failures (a node leaving mid-call, a transaction rolled back by topology
 *       change) are UNAVAILABLE: the caller may retry;
 *   <li>anything else is INTERNAL and is logged, since it is a bug.
 * </ul>
 *
 * Thread safe (stateless).
 */
final class MasterErrors {
  private static final Logger LOG = LoggerFactory.getLogger(MasterErrors.class);

  private MasterErrors() {}

  /**
   * @param t what the master's logic threw
   * @return the gRPC status for it, with a description a person can act on
   */
  static Status toStatus(Throwable t) {
    if (t instanceof MasterException me) {
      Status.Code code =
          switch (me.kind()) {
            case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.Code.NOT_FOUND;
            case ALREADY_EXISTS -> Status.Code.ALREADY_EXISTS;
            case FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
            case RESOURCE_EXHAUSTED -> Status.Code.RESOURCE_EXHAUSTED;
            case UNAVAILABLE -> Status.Code.UNAVAILABLE;
          };
      return Status.fromCode(code).withDescription(shorten(me.getMessage()));
    }
    if (t instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(shorten(t.getMessage()));
    }
    if (t instanceof IgniteException || t instanceof CacheException
        || t instanceof IllegalStateException && String.valueOf(t.getMessage()).contains("Grid is in invalid state")) {
      return Status.UNAVAILABLE
          .withDescription("the master's grid storage is not available right now (" + t
              + "); retry in a moment")
          .withCause(t);
    }
    LOG.error("internal error in the master", t);
    return Status.INTERNAL.withDescription("internal error in the master: " + t).withCause(t);
  }

  /** Longest description sent, in characters; see {@link #shorten}. */
  static final int MAX_DESCRIPTION = 400;

  /**
   * Keeps a description within {@link #MAX_DESCRIPTION} characters by cutting out its middle
   * (where a long key usually sits; the start says what failed, the end what was expected). gRPC
   * sends the description percent-encoded in a trailer and HTTP/2 peers refuse header lists over
   * 8 KiB, so a 1 KiB non-ASCII key quoted verbatim would turn a refusal into a protocol error.
   */
  static String shorten(String d) {
    if (d == null || d.length() <= MAX_DESCRIPTION) {
      return d;
    }
    int half = MAX_DESCRIPTION / 2 - 20;
    int head = Character.isLowSurrogate(d.charAt(half)) ? half - 1 : half;
    int tail = d.length() - half;
    if (Character.isLowSurrogate(d.charAt(tail))) {
      tail++;
    }
    return d.substring(0, head) + " [... " + (tail - head) + " chars ...] " + d.substring(tail);
  }

  /**
   * @param t what the master's logic threw
   * @return the exception to hand to a gRPC response observer
   */
  static StatusRuntimeException toException(Throwable t) {
    return toStatus(t).asRuntimeException();
  }

  /** @return the status of one item of a batch call that failed with {@code t} */
  static ItemStatus toItemStatus(Throwable t) {
    Status s = toStatus(t);
    return ItemStatus.newBuilder()
        .setCode(s.getCode().value())
        .setMessage(s.getDescription() == null ? "" : s.getDescription())
        .build();
  }

  /** The status of a batch item that succeeded. */
  static final ItemStatus OK = ItemStatus.newBuilder().setCode(0).build();
}
