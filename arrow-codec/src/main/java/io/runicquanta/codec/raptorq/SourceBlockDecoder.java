package io.runicquanta.codec.raptorq;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/** Recovers a source block (or sub-block) by replaying a {@link DecodingPlan}. Stateless. */
public final class SourceBlockDecoder {
  private SourceBlockDecoder() {}

  /**
   * Decodes.
   *
   * @param allocator pays for scratch (about L x symbolSize bytes), freed before returning
   * @param plan built for these received ESIs
   * @param symbolSize T (or the sub-symbol size), bytes
   * @param received plan.esis().length symbols of symbolSize bytes, contiguous at {@code offset}, in
   *     the plan's ESI order; read only
   * @param dst receives K x symbolSize bytes of source symbols at {@code dstOffset}
   */
  public static void decode(
      BufferAllocator allocator,
      DecodingPlan plan,
      int symbolSize,
      ArrowBuf received,
      long offset,
      ArrowBuf dst,
      long dstOffset) {
    throw new UnsupportedOperationException("not implemented yet");
  }
}
