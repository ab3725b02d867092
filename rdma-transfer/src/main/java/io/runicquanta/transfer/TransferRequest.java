package io.runicquanta.transfer;

/**
 * One READ or WRITE between a local registered segment and a remote one. Immutable.
 *
 * <p>The local side must be a {@link Segment} of the engine the request is submitted to, because
 * RDMA transports need local memory registered too (as in Mooncake's {@code registerLocalMemory}).
 *
 * @param op direction
 * @param local local segment (source of a WRITE, destination of a READ)
 * @param localOffset byte offset in {@code local}
 * @param remote descriptor of the remote segment
 * @param remoteOffset byte offset in the remote segment
 * @param length bytes to move, at least 1
 */
public record TransferRequest(
    TransferOp op,
    Segment local,
    long localOffset,
    SegmentDescriptor remote,
    long remoteOffset,
    long length) {

  /**
   * @throws IllegalArgumentException if a reference is null, an offset is negative, the length is
   *     not positive or the range exceeds the local segment
   */
  public TransferRequest {
    if (op == null || local == null || remote == null) {
      throw new IllegalArgumentException(
          "op, local and remote must be non-null, got op=" + op + " local=" + local + " remote="
              + remote);
    }
    if (length <= 0) {
      throw new IllegalArgumentException("length must be >= 1 byte, got " + length);
    }
    if (localOffset < 0 || localOffset > local.length() - length) {
      throw new IllegalArgumentException(
          "local range [" + localOffset + ", +" + length + ") outside segment '" + local.name()
              + "' of " + local.length() + " bytes");
    }
    if (remoteOffset < 0) {
      throw new IllegalArgumentException("remoteOffset must be >= 0, got " + remoteOffset);
    }
  }

  /** A READ of {@code length} bytes from {@code remote} at {@code remoteOffset} into {@code local}. */
  public static TransferRequest read(
      Segment local, long localOffset, SegmentDescriptor remote, long remoteOffset, long length) {
    return new TransferRequest(TransferOp.READ, local, localOffset, remote, remoteOffset, length);
  }

  /** A WRITE of {@code length} bytes from {@code local} into {@code remote} at {@code remoteOffset}. */
  public static TransferRequest write(
      Segment local, long localOffset, SegmentDescriptor remote, long remoteOffset, long length) {
    return new TransferRequest(TransferOp.WRITE, local, localOffset, remote, remoteOffset, length);
  }
}
