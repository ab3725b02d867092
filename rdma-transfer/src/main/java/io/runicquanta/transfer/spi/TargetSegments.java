package io.runicquanta.transfer.spi;

import io.runicquanta.transfer.TransferOp;

/**
 * The target side's segment table: transports whose target runs code per request (local, tcp) ask
 * it before touching memory. Thread safe.
 */
public interface TargetSegments {
  /**
   * Checks a remote request and pins the segment open until the returned access is closed.
   *
   * @param segmentName the name in the requester's descriptor
   * @param key the registration key in the requester's descriptor
   * @param offset byte offset in the segment
   * @param length bytes to access
   * @param op the requester's operation
   * @return the pinned access; the caller must close it when done touching memory
   * @throws io.runicquanta.transfer.TransferRefusedException if the segment is unknown, closed,
   *     re-registered under another key, or the range is outside it
   */
  TargetAccess acquire(String segmentName, long key, long offset, long length, TransferOp op);

  /** A pinned range of a segment; {@link #close()} unpins it. Not thread safe. */
  interface TargetAccess extends AutoCloseable {
    /** Native address of the first byte of the checked range. */
    long address();

    @Override
    void close();
  }
}
