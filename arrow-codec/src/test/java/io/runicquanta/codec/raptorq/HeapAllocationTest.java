package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import java.lang.management.ManagementFactory;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Symbol data must not pass through the Java heap. Encodes and decodes a 64 MiB block (T = 65532, K
 * = 1025) and measures the heap the thread allocated ({@code
 * com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}), plan construction included.
 *
 * <p>Thresholds (128 MiB of symbols processed: 64 MiB encoded, 64 MiB decoded): the symbol work
 * alone (creating the encoder, producing K + 10% symbols, decoding; plan construction excluded) must
 * allocate under 256 KiB in total, i.e. a constant (allocator bookkeeping, with its debug history
 * under -ea), far below one 65532-byte symbol per 64 source symbols; everything including both plan
 * constructions (about 1.2 MB of temporary matrices each for K = 1025) must stay under 1/16 of the
 * bytes processed. A single heap copy of the data would allocate at least 64 MiB. The figures are
 * printed.
 */
@ExtendWith(AllocatorExtension.class)
class HeapAllocationTest {

  @Test
  void encodeAndDecode64MiBWithoutSymbolDataOnTheHeap(BufferAllocator alloc) {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    int t = 65532;
    long objectBytes = 64L << 20;
    int k = (int) ((objectBytes + t - 1) / t);
    int repair = k / 10;
    int lost = k / 10;
    try (ArrowBuf src = alloc.buffer((long) k * t);
        ArrowBuf sent = alloc.buffer((long) (k + repair + 2) * t);
        ArrowBuf dst = alloc.buffer((long) k * t)) {
      long x = 0x9E3779B97F4A7C15L;
      for (long i = 0; i + 8 <= (long) k * t; i += 8) {
        x = x * 6364136223846793005L + 1442695040888963407L;
        src.setLong(i, x);
      }
      // Warm up the classes and the encoder on a small block so that class loading is not counted.
      warmUp(alloc);

      long h0 = mx.getCurrentThreadAllocatedBytes();
      EncodingPlan plan = EncodingPlan.forSourceSymbols(k);
      long h1 = mx.getCurrentThreadAllocatedBytes();
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, t, src, 0)) {
        for (int e = 0; e < k + repair + 2; e++) {
          enc.encodeSymbol(e, sent, (long) e * t);
        }
      }
      long h2 = mx.getCurrentThreadAllocatedBytes();
      // received: source lost..K-1 then repair symbols K..K+lost+1, already contiguous in `sent`
      int[] esis = new int[k + 2];
      for (int q = 0; q < k + 2; q++) {
        esis[q] = lost + q;
      }
      DecodingPlan dplan = DecodingPlan.build(k, esis);
      long h3 = mx.getCurrentThreadAllocatedBytes();
      SourceBlockDecoder.decode(alloc, dplan, t, sent, (long) lost * t, dst, 0);
      long h4 = mx.getCurrentThreadAllocatedBytes();

      for (long i = 0; i < (long) k * t; i += 4096) {
        assertTrue(src.getByte(i) == dst.getByte(i), "decoded byte " + i);
      }
      for (long i = (long) k * t - 64; i < (long) k * t; i++) {
        assertTrue(src.getByte(i) == dst.getByte(i), "decoded byte " + i);
      }
      long processed = 2 * objectBytes;
      long total = h4 - h0;
      System.out.printf(
          "heap allocated for 64 MiB encode+decode (T=%d, K=%d): encoding plan %d B (plan heap %d B),"
              + " encode %d B, decoding plan %d B, decode %d B, total %d B = %.5f%% of %d bytes"
              + " processed%n",
          t, k, h1 - h0, plan.heapBytes(), h2 - h1, h3 - h2, h4 - h3, total,
          100.0 * total / processed, processed);
      assertTrue(total < processed / 16,
          "heap allocated " + total + " B while processing " + processed + " B of symbols");
      // Not zero: the workspace and the source copy are allocated in pieces of at most 16 MiB
      // (Tiling.PIECE_BYTES), and the allocator's pool builds its bookkeeping for sizes it has not
      // served before (about 90 KB the first time, 224 B per buffer after, measured); symbol data
      // through the heap would be at least the 128 MiB processed.
      assertTrue(h2 - h1 + h4 - h3 < 1024 * 1024,
          "symbol work (excluding plans) allocated " + (h2 - h1 + h4 - h3) + " B");
    }
  }

  private static void warmUp(BufferAllocator alloc) {
    int k = 30;
    int t = 64;
    try (ArrowBuf src = alloc.buffer((long) k * t);
        ArrowBuf out = alloc.buffer((long) (k + 3) * t)) {
      src.setZero(0, src.capacity());
      try (SourceBlockEncoder enc =
          SourceBlockEncoder.create(alloc, EncodingPlan.forSourceSymbols(k), t, src, 0)) {
        for (int e = 0; e < k + 3; e++) {
          enc.encodeSymbol(e + 1, out, (long) e * t);
        }
      }
      int[] esis = new int[k + 2];
      for (int q = 0; q < esis.length; q++) {
        esis[q] = q + 1;
      }
      SourceBlockDecoder.decode(alloc, DecodingPlan.build(k, esis), t, out, 0, src, 0);
    }
  }
}
