package io.runicquanta.codec.raptorq;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Recovers a source block (or sub-block) by replaying a {@link DecodingPlan}. Stateless and thread
 * safe (each call uses its own scratch buffer).
 */
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
   * @throws IllegalArgumentException if symbolSize is below 1 or a range lies outside its buffer
   * @throws org.apache.arrow.memory.OutOfMemoryException if the allocator refuses the scratch
   */
  public static void decode(
      BufferAllocator allocator,
      DecodingPlan plan,
      int symbolSize,
      ArrowBuf received,
      long offset,
      ArrowBuf dst,
      long dstOffset) {
    decode(WorkspacePool.Source.of(allocator), plan, symbolSize, received, offset, dst, dstOffset);
  }

  /**
   * As {@link #decode(BufferAllocator, DecodingPlan, int, ArrowBuf, long, ArrowBuf, long)}, with the
   * scratch taken from a pool and given back to it before returning (its pages are reused from
   * block to block instead of faulted afresh).
   */
  public static void decode(
      WorkspacePool pool,
      DecodingPlan plan,
      int symbolSize,
      ArrowBuf received,
      long offset,
      ArrowBuf dst,
      long dstOffset) {
    decode(WorkspacePool.Source.of(pool), plan, symbolSize, received, offset, dst, dstOffset);
  }

  private static void decode(
      WorkspacePool.Source allocator,
      DecodingPlan plan,
      int symbolSize,
      ArrowBuf received,
      long offset,
      ArrowBuf dst,
      long dstOffset) {
    if (plan == null) {
      throw new IllegalArgumentException("plan is null");
    }
    if (symbolSize < 1) {
      throw new IllegalArgumentException("symbolSize = " + symbolSize + ", expected >= 1");
    }
    int k = plan.sourceSymbols();
    SourceBlockEncoder.checkRange(
        "received", received, offset, (long) plan.receivedCount() * symbolSize);
    SourceBlockEncoder.checkRange("destination", dst, dstOffset, (long) k * symbolSize);
    long in = received.memoryAddress() + offset;
    long out = dst.memoryAddress() + dstOffset;
    int[] sourceIndex = plan.sourceIndex();
    if (plan.slots() == 0) {
      copySource(sourceIndex, in, out, symbolSize);
      return;
    }
    java.util.List<ArrowBuf> bufs = new java.util.ArrayList<>(4);
    try {
      // In pieces of at most 16 MiB: see Tiling (fresh mappings of large buffers are slow).
      Tiling ws = Tiling.allocate(allocator, plan.slots(), symbolSize, bufs);
      SymbolOps.run(plan.program(), ws, in, symbolSize);
      int[] ms = plan.missStart();
      int[] slots = plan.missSlots();
      int mi = 0;
      long[] x = new long[SymbolOps.SUM_MAX];
      for (int e = 0; e < k; e++) {
        long d = out + (long) e * symbolSize;
        int si = sourceIndex[e];
        if (si >= 0) {
          SymbolOps.copy(in + (long) si * symbolSize, d, symbolSize);
          continue;
        }
        int a = ms[mi];
        int b = ms[mi + 1];
        mi++;
        for (int i = 0; i < ws.tiles; i++) {
          int w = ws.width(i);
          long tb = ws.tileBase(i);
          long dd = d + ws.offset(i);
          // dd = the XOR of the slots, up to SUM_MAX operands per pass over dd.
          int c = 0;
          for (int q = a; q < b; q++) {
            if (c == SymbolOps.SUM_MAX) {
              SymbolOps.sum(dd, x, c, w);
              x[0] = dd;
              c = 1;
            }
            x[c++] = tb + (long) slots[q] * w;
          }
          SymbolOps.sum(dd, x, c, w);
        }
      }
    } finally {
      for (ArrowBuf b : bufs) {
        allocator.give(b);
      }
    }
  }

  private static void copySource(int[] sourceIndex, long in, long out, int t) {
    for (int e = 0; e < sourceIndex.length; e++) {
      SymbolOps.copy(in + (long) sourceIndex[e] * t, out + (long) e * t, t);
    }
  }
}
