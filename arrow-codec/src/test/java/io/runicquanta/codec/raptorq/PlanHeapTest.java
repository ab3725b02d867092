package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Building a plan on a thread that has built one before allocates little more than the plan it
 * returns: the temporaries (rows, buckets, the recorded operations before liveness and fusion)
 * come from the thread's {@link Scratch} and both compaction passes work in place. Before, the
 * pruned operations were copied into a fresh array (116 KB for K = 820) that fusion then shrank:
 * 208 KiB allocated per encoding plan of K = 820, against 94 KiB now (the plan is about 85 KB).
 * The bound: the plan's own footprint, the per-row input arrays (8 bytes per row; decoding 16,
 * with the ESI bookkeeping) and 16 KiB for small objects. Decoding plans of K = 820: 233 -> 121 KiB.
 */
class PlanHeapTest {
  private static final com.sun.management.ThreadMXBean MX =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  @Test
  void encodingPlanAllocatesAboutItsOwnSize() {
    for (int k : new int[] {820, 1025, 5000}) {
      EncodingPlan.forSourceSymbols(k); // grows this thread's scratch
      long a0 = MX.getCurrentThreadAllocatedBytes();
      EncodingPlan plan = EncodingPlan.forSourceSymbols(k);
      long used = MX.getCurrentThreadAllocatedBytes() - a0;
      long bound = plan.heapBytes() + 8L * SystematicParams.forSourceSymbols(k).kPrime() + 16384;
      System.out.printf("K=%d: encoding plan build allocated %d B, plan %d B, bound %d B%n",
          k, used, plan.heapBytes(), bound);
      assertTrue(used <= bound, "K=" + k + ": " + used + " B allocated, bound " + bound);
    }
  }

  @Test
  void decodingPlanAllocatesAboutItsOwnSize() {
    for (int k : new int[] {820, 1025}) {
      int[] esis = new int[k + 2];
      for (int q = 0; q < esis.length; q++) {
        esis[q] = k / 10 + q;
      }
      DecodingPlan.build(k, esis);
      long a0 = MX.getCurrentThreadAllocatedBytes();
      DecodingPlan plan = DecodingPlan.build(k, esis);
      long used = MX.getCurrentThreadAllocatedBytes() - a0;
      // + the ESI-set check's BitSet, the unique ESIs and the missing symbols' column lists (40
      // ints per missing symbol)
      long bound = plan.heapBytes() + 16L * SystematicParams.forSourceSymbols(k).kPrime()
          + 160L * (k / 10) + 16384;
      System.out.printf("K=%d: decoding plan build allocated %d B, plan %d B, bound %d B%n",
          k, used, plan.heapBytes(), bound);
      assertTrue(used <= bound, "K=" + k + ": " + used + " B allocated, bound " + bound);
    }
  }
}
