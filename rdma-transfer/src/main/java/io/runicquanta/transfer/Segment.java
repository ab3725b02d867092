package io.runicquanta.transfer;

import org.apache.arrow.memory.ArrowBuf;

/**
 * Off-heap memory registered with every rail of an engine's transport, addressable by peers through
 * its {@link #descriptor()}. Obtained from {@link TransferEngine#registerSegment} (the caller keeps
 * owning the {@link ArrowBuf} and must keep it open until this segment is closed) or {@link
 * TransferEngine#allocateSegment} (the engine allocates from its allocator and frees on close).
 *
 * <p>{@link #close()} is idempotent: it stops new remote and local accesses (later requests are
 * refused with {@link TransferRefusedException}), waits for accesses in progress to finish,
 * deregisters the memory from every transport and frees memory the engine allocated. All methods
 * are thread safe.
 */
public interface Segment extends AutoCloseable {
  /** The segment's name, unique within its engine. */
  String name();

  /** Length in bytes. */
  long length();

  /** Native address of byte 0. Valid while the segment is open. */
  long address();

  /**
   * The memory as an Arrow buffer. For engine-allocated segments the buffer is owned by the segment
   * (do not close it); for registered ones it is the caller's buffer.
   */
  ArrowBuf buffer();

  /** How peers address this segment; serializable with {@link SegmentDescriptor#toBytes()}. */
  SegmentDescriptor descriptor();

  /** False once {@link #close()} started. */
  boolean isOpen();

  /** Deregisters and, for engine-allocated memory, frees. Idempotent. */
  @Override
  void close();
}
