package io.runicquanta.codec.raptorq;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Encodes one source block (or sub-block): computes its intermediate symbols once, then produces
 * any encoding symbol by ESI (RFC 6330 section 5.3.4). Holds the L intermediate symbols in a buffer
 * from the given allocator until {@link #close()}. {@link #encodeSymbol} is thread safe.
 */
public final class SourceBlockEncoder implements AutoCloseable {
  private SourceBlockEncoder() {}

  /**
   * Computes the intermediate symbols.
   *
   * @param allocator pays for L x symbolSize bytes of intermediate symbols (and scratch)
   * @param plan the plan for this block's K
   * @param symbolSize T (or the sub-symbol size), bytes, at least 1
   * @param source K x symbolSize bytes of source symbols at {@code offset}; read during this call
   *     only, the caller keeps ownership
   */
  public static SourceBlockEncoder create(
      BufferAllocator allocator, EncodingPlan plan, int symbolSize, ArrowBuf source, long offset) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /**
   * Writes the encoding symbol with this ESI (source symbols for ESI below K, repair symbols from
   * ESI K to 2^24-1) to {@code dst} at {@code dstOffset}, symbolSize bytes.
   */
  public void encodeSymbol(int esi, ArrowBuf dst, long dstOffset) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** Frees the intermediate symbols; idempotent. */
  @Override
  public void close() {}
}
