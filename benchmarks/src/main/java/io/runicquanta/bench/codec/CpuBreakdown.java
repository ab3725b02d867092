package io.runicquanta.bench.codec;

import io.runicquanta.codec.raptorq.DecodingPlan;
import io.runicquanta.codec.raptorq.EncodingPlan;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Where the CPU of one {@link CpuTimeSpeed} cell goes: per run of encode (or decode) with the plan
 * built from scratch, the benchmark thread's CPU time, the whole process's CPU time, GC collections
 * and time, heap bytes allocated by the thread; then the same operation split into its two halves
 * (plan build alone, replay of a freshly built plan alone) and the cached-plan replay, each timed
 * the same way. Prints min / median / p90 over {@code runs} runs after a 3 s warm-up of each.
 *
 * <p>Usage: {@code java -Xms2g -Xmx2g -XX:+AlwaysPreTouch <flags> -cp benchmarks.jar
 * io.runicquanta.bench.codec.CpuBreakdown MiB T runs}.
 */
public final class CpuBreakdown {
  private CpuBreakdown() {}

  private static final com.sun.management.ThreadMXBean TMX =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private static final List<GarbageCollectorMXBean> GCS =
      ManagementFactory.getGarbageCollectorMXBeans();

  public static void main(String[] args) {
    int mib = Integer.parseInt(args[0]);
    int t = Integer.parseInt(args[1]);
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    RaptorQBenchmark b = new RaptorQBenchmark();
    b.objectMiB = mib;
    b.symbolSize = t;
    b.setUp();
    try {
      int k = (int) ((((long) mib << 20) + t - 1) / t);
      int[] esis = new int[k + 2];
      for (int q = 0; q < k + 2; q++) {
        esis[q] = k / 10 + q;
      }
      EncodingPlan[] encPlan = new EncodingPlan[1];
      DecodingPlan[] decPlan = new DecodingPlan[1];
      report("encode (plan from scratch)", b::encode, runs);
      if (args.length > 3 && args[3].equals("quick")) {
        report("encode, cached plan", b::encodeCachedPlan, runs);
        report("encode (plan from scratch)", b::encode, runs);
        return;
      }
      report("encode: plan build only", () -> {
        encPlan[0] = EncodingPlan.forSourceSymbols(k);
        return 0;
      }, runs);
      report("encode: replay of a fresh plan", () -> b.encodeWith(encPlan[0]), runs, () -> {
        encPlan[0] = EncodingPlan.forSourceSymbols(k);
      });
      report("encode, cached plan", b::encodeCachedPlan, runs);
      report("decode (plan from scratch)", b::decode, runs);
      report("decode: plan build only", () -> {
        decPlan[0] = DecodingPlan.build(k, esis);
        return 0;
      }, runs);
      report("decode: replay of a fresh plan", () -> b.decodeWith(decPlan[0]), runs, () -> {
        decPlan[0] = DecodingPlan.build(k, esis);
      });
      report("decode, cached plan", b::decodeCachedPlan, runs);
    } finally {
      b.tearDown();
    }
  }

  private static void report(String name, CpuTimeSpeed.Op op, int runs) {
    report(name, op, runs, () -> { });
  }

  private static long gcCount() {
    long c = 0;
    for (GarbageCollectorMXBean g : GCS) {
      c += g.getCollectionCount();
    }
    return c;
  }

  private static long gcMillis() {
    long c = 0;
    for (GarbageCollectorMXBean g : GCS) {
      c += g.getCollectionTime();
    }
    return c;
  }

  private static void report(String name, CpuTimeSpeed.Op op, int runs, Runnable before) {
    long tid = Thread.currentThread().getId();
    long warmStart = TMX.getCurrentThreadCpuTime();
    while (TMX.getCurrentThreadCpuTime() - warmStart < 3_000_000_000L) {
      before.run();
      op.run();
    }
    double[] thr = new double[runs];
    double[] proc = new double[runs];
    double[] alloc = new double[runs];
    long gc0 = gcCount();
    long gcMs0 = gcMillis();
    long procTotal0 = OS.getProcessCpuTime();
    double thrSum = 0;
    for (int r = 0; r < runs; r++) {
      before.run();
      long a0 = TMX.getThreadAllocatedBytes(tid);
      long p0 = OS.getProcessCpuTime();
      long t0 = TMX.getCurrentThreadCpuTime();
      op.run();
      long t1 = TMX.getCurrentThreadCpuTime();
      long p1 = OS.getProcessCpuTime();
      long a1 = TMX.getThreadAllocatedBytes(tid);
      thr[r] = (t1 - t0) / 1e6;
      proc[r] = (p1 - p0) / 1e6;
      alloc[r] = (a1 - a0) / 1024.0;
      thrSum += thr[r];
    }
    long procTotal = OS.getProcessCpuTime() - procTotal0;
    System.out.printf(Locale.ROOT,
        "%-34s thread ms %s | process ms %s | KiB alloc median %.0f | GCs %d (%d ms) in %d runs;"
            + " process/thread CPU over the loop %.2f%n",
        name, stats(thr), stats(proc), median(alloc), gcCount() - gc0, gcMillis() - gcMs0, runs,
        procTotal / 1e6 / thrSum);
  }

  private static double median(double[] a) {
    double[] c = a.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  private static String stats(double[] a) {
    double[] c = a.clone();
    Arrays.sort(c);
    return String.format(Locale.ROOT, "min %.3f med %.3f p90 %.3f", c[0], c[c.length / 2],
        c[(int) (c.length * 0.9)]);
  }
}
