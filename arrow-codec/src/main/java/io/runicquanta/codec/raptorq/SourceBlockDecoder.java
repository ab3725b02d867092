package io.runicquanta.codec.raptorq;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Recovers a source block (or sub-block) by replaying a {@link DecodingPlan}. Stateless and thread
 * safe (each call uses its own scratch buffer).
 *
 * <p>For small blocks the missing source symbols are instead written directly as GF(256)
 * combinations of the received symbols ({@link DenseForm}), when the plan's dense form plus those
 * combinations cost less than replaying the plan over T-byte symbols; the result is the same.
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
    decode(allocator, plan, symbolSize, received, offset, dst, dstOffset, DenseForm.DEFAULT_MODE);
  }

  /** With the route forced or chosen ({@link DenseForm#AUTO}, ON, OFF); package-private for tests. */
  static void decode(
      WorkspacePool.Source allocator,
      DecodingPlan plan,
      int symbolSize,
      ArrowBuf received,
      long offset,
      ArrowBuf dst,
      long dstOffset,
      int mode) {
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
    if (mode != DenseForm.OFF && useDense(plan, symbolSize, mode)) {
      try {
        decodeDense(allocator, plan, symbolSize, in, out, bufs);
      } finally {
        for (ArrowBuf b : bufs) {
          allocator.give(b);
        }
      }
      return;
    }
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
          SymbolOps.sumSlots(dd, 0, tb, w, slots, a, b, x, w);
        }
      }
    } finally {
      for (ArrowBuf b : bufs) {
        allocator.give(b);
      }
    }
  }

  /** Whether the dense route costs less (see {@link DenseForm}); always for ON. */
  static boolean useDense(DecodingPlan plan, int symbolSize, int mode) {
    if (mode == DenseForm.ON) {
      return true;
    }
    int missing = plan.missStart().length - 1;
    return DenseForm.cheaper(plan.program(), plan.receivedCount(), missing, symbolSize,
        2L * plan.missSlots().length);
  }

  /**
   * Copies the received source symbols and writes each missing one as its combination of the
   * received symbols: coefficients = XOR of the dense-form rows of the slots the plan would XOR.
   */
  private static void decodeDense(
      WorkspacePool.Source allocator, DecodingPlan plan, int symbolSize, long in, long out,
      java.util.List<ArrowBuf> bufs) {
    int k = plan.sourceSymbols();
    int n = plan.receivedCount();
    long dense = DenseForm.compute(allocator, plan.program(), n, bufs);
    int[] sourceIndex = plan.sourceIndex();
    int[] ms = plan.missStart();
    int[] slots = plan.missSlots();
    DenseForm.Combiner c = DenseForm.combiner();
    int mi = 0;
    for (int e = 0; e < k; e++) {
      long d = out + (long) e * symbolSize;
      int si = sourceIndex[e];
      if (si >= 0) {
        SymbolOps.copy(in + (long) si * symbolSize, d, symbolSize);
        continue;
      }
      c.reset();
      byte[] co = c.coefs(n);
      for (int q = ms[mi]; q < ms[mi + 1]; q++) {
        DenseForm.xorRow(dense + (long) slots[q] * n, co, n);
      }
      mi++;
      for (int j = 0; j < n; j++) {
        c.add(in + (long) j * symbolSize, co[j]);
      }
      c.writeTo(d, symbolSize);
    }
  }

  private static void copySource(int[] sourceIndex, long in, long out, int t) {
    for (int e = 0; e < sourceIndex.length; e++) {
      SymbolOps.copy(in + (long) sourceIndex[e] * t, out + (long) e * t, t);
    }
  }
}
