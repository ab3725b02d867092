package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.UndecodableBlockException;
import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.SplitMix64;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Measures how often decoding fails with exactly K, K+1 and K+2 received symbols (a random mix of
 * source and repair ESIs, repair ESIs drawn from K..K+10K), over 10,000 trials each for K = 10 and K
 * = 100, and prints the rates. Rank is decided by the plan (matrix only); every 50th successful plan
 * is also replayed on data and checked byte for byte. Bounds are loose sanity limits, not the RFC's
 * figures: K+2 below 1e-3, K below 5%.
 */
@ExtendWith(AllocatorExtension.class)
class DecodeFailureRateTest {
  private static final int TRIALS = 10_000;

  @Test
  void failureRates(BufferAllocator alloc) {
    long seed = 0xFA11L;
    StringBuilder report = new StringBuilder("decode failure rates (seed=" + seed + ", " + TRIALS
        + " trials each):\n");
    for (int k : new int[] {10, 100}) {
      Random rnd = new Random(seed + k);
      int t = 8;
      byte[] data = SplitMix64.bytes(k, k * t);
      int maxEsi = k + 10 * k;
      try (ArrowBuf src = alloc.buffer((long) k * t);
          ArrowBuf all = alloc.buffer((long) maxEsi * t);
          ArrowBuf in = alloc.buffer((long) (k + 2) * t);
          ArrowBuf out = alloc.buffer((long) k * t)) {
        src.setBytes(0, data);
        try (SourceBlockEncoder enc =
            SourceBlockEncoder.create(alloc, EncodingPlan.forSourceSymbols(k), t, src, 0)) {
          for (int e = 0; e < maxEsi; e++) {
            enc.encodeSymbol(e, all, (long) e * t);
          }
        }
        for (int overhead = 0; overhead <= 2; overhead++) {
          int n = k + overhead;
          int failures = 0;
          for (int trial = 0; trial < TRIALS; trial++) {
            int[] esis = sample(rnd, maxEsi, n);
            DecodingPlan plan;
            try {
              plan = DecodingPlan.build(k, esis);
            } catch (UndecodableBlockException e) {
              failures++;
              continue;
            }
            if (trial % 50 == 0) {
              for (int q = 0; q < n; q++) {
                in.setBytes((long) q * t, all, (long) esis[q] * t, t);
              }
              SourceBlockDecoder.decode(alloc, plan, t, in, 0, out, 0);
              byte[] got = new byte[k * t];
              out.getBytes(0, got, 0, got.length);
              assertTrue(java.util.Arrays.equals(data, got),
                  "decoded bytes differ, K=" + k + " n=" + n + " trial " + trial);
            }
          }
          double rate = failures / (double) TRIALS;
          report.append(String.format("  K=%d received=K+%d: %d failures, rate %.5f%n",
              k, overhead, failures, rate));
          if (overhead == 0) {
            assertTrue(rate < 0.05, "K=" + k + " failure rate with K symbols " + rate);
          } else if (overhead == 2) {
            assertTrue(rate < 1e-3, "K=" + k + " failure rate with K+2 symbols " + rate);
          }
        }
      }
    }
    System.out.print(report);
  }

  private static int[] sample(Random rnd, int range, int n) {
    int[] out = new int[n];
    java.util.BitSet used = new java.util.BitSet(range);
    for (int q = 0; q < n; q++) {
      int e;
      do {
        e = rnd.nextInt(range);
      } while (used.get(e));
      used.set(e);
      out[q] = e;
    }
    return out;
  }
}
