package io.runicquanta.bench.codec;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * The cells of {@link RaptorQBenchmark} timed in thread CPU time instead of wall time: on a shared
 * machine where other processes take the cores, wall time measures the scheduler, CPU time still
 * measures the code (cache and memory-bandwidth contention remain). Each operation runs until it
 * has been warmed up (at least 3 s of CPU and 3 runs: with less, a 1 MiB plan build was timed
 * before the JIT had compiled it, at a third of its speed); then the five operations of a cell (XOR,
 * encode, decode, both with a cached plan) are timed in rounds, each round a burst of about 100 ms of
 * CPU per operation, until every operation has at least {@code runs} timed runs and {@code
 * -Dmeasure.seconds} (default 2) of timed CPU; the median run is reported as MB/s of object per CPU
 * second, next to the XOR of the same bytes timed the same way.
 *
 * <p>Why rounds: on this shared VM the same replay on the same memory runs 30-45 % slower for
 * seconds at a time (other processes' memory traffic in the shared L3, cache refills after context
 * switches; arrow-codec/README.md, "Buffer placement and the non-JIT slow JVMs"). Nine runs back to
 * back (15 ms for a 1 MiB object, the method before 2026-12-01 06:30) sampled one such phase, so one
 * operation of a JVM could be 30 % off while the others were not; interleaved rounds spread every
 * operation's samples over the same seconds ({@code -Dmeasure.seconds=0} stops at {@code runs} runs).
 *
 * <p>Usage: {@code java -Xms2g -Xmx2g -XX:+AlwaysPreTouch
 * --add-opens=java.base/java.nio=ALL-UNNAMED -cp benchmarks.jar
 * io.runicquanta.bench.codec.CpuTimeSpeed [runs]} (pre-touched heap: see {@link RaptorQBenchmark}); {@code -Dcells=1/1280,16/65532} limits the run
 * to those cells (MiB/T).
 */
public final class CpuTimeSpeed {
  private CpuTimeSpeed() {}

  private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    StringBuilder sb = new StringBuilder();
    sb.append("\n## Codec speed in thread CPU time (median of ").append(runs)
        .append(" runs; MB/s of object per CPU second)\n\n");
    sb.append("| object / T | XOR | encode | x XOR | decode | x XOR | encode, cached plan |"
        + " decode, cached plan |\n|---|---|---|---|---|---|---|---|\n");
    String only = System.getProperty("cells", "");
    for (int t : new int[] {1280, 65532}) {
      for (int mib : new int[] {1, 16, 64}) {
        if (!only.isEmpty() && !("," + only + ",").contains("," + mib + "/" + t + ",")) {
          continue;
        }
        RaptorQBenchmark b = new RaptorQBenchmark();
        b.objectMiB = mib;
        b.symbolSize = t;
        b.setUp();
        try {
          double bytes = (double) mib * (1 << 20);
          double[] ms = time(new Op[] {b::xorBaseline, b::encode, b::decode, b::encodeCachedPlan,
              b::decodeCachedPlan}, runs);
          double xor = mbs(bytes, ms[0]);
          double enc = mbs(bytes, ms[1]);
          double dec = mbs(bytes, ms[2]);
          double encC = mbs(bytes, ms[3]);
          double decC = mbs(bytes, ms[4]);
          placement(b, mib, t, "all operations");
          sb.append(String.format(Locale.ROOT,
              "| %d MiB / %d | %.0f | %.0f | %.3f | %.0f | %.3f | %.0f | %.0f |%n",
              mib, t, xor, enc, enc / xor, dec, dec / xor, encC, decC));
          System.err.print(sb);
        } finally {
          b.tearDown();
        }
      }
    }
    System.out.println(sb);
  }

  /** With -Dplacement=true: the buffers' addresses mod 4096 after an operation's runs, to stderr. */
  private static void placement(RaptorQBenchmark b, int mib, int t, String op) {
    if (Boolean.getBoolean("placement")) {
      System.err.println("placement " + mib + "/" + t + " after " + op + ": " + b.placement());
    }
  }

  interface Op {
    long run();
  }

  /**
   * Median CPU milliseconds of one run of each op: every op warmed up in turn (3 s of CPU, 3 runs),
   * then timed in interleaved rounds (a burst of {@code measure.burstMillis}, default 100, of CPU per
   * op and round) until each op has at least {@code runs} runs and {@code measure.seconds} of timed CPU.
   */
  static double[] time(Op[] ops, int runs) {
    for (Op op : ops) {
      long warmStart = MX.getCurrentThreadCpuTime();
      int warm = 0;
      while (warm < 3 || MX.getCurrentThreadCpuTime() - warmStart < 3_000_000_000L) {
        op.run();
        warm++;
      }
    }
    long budget = (long) (Double.parseDouble(System.getProperty("measure.seconds", "2")) * 1e9);
    long burst = Long.getLong("measure.burstMillis", 100L) * 1_000_000L;
    int n = ops.length;
    double[][] ms = new double[n][64];
    int[] count = new int[n];
    long[] spent = new long[n];
    boolean more = true;
    while (more) {
      more = false;
      for (int i = 0; i < n; i++) {
        if (count[i] >= runs && spent[i] >= budget) {
          continue;
        }
        long burstStart = MX.getCurrentThreadCpuTime();
        do {
          long t0 = MX.getCurrentThreadCpuTime();
          ops[i].run();
          long d = MX.getCurrentThreadCpuTime() - t0;
          if (count[i] == ms[i].length) {
            ms[i] = Arrays.copyOf(ms[i], 2 * count[i]);
          }
          ms[i][count[i]++] = d / 1e6;
          spent[i] += d;
        } while (MX.getCurrentThreadCpuTime() - burstStart < burst);
        more |= count[i] < runs || spent[i] < budget;
      }
    }
    double[] median = new double[n];
    for (int i = 0; i < n; i++) {
      double[] v = Arrays.copyOf(ms[i], count[i]);
      Arrays.sort(v);
      median[i] = v[v.length / 2];
    }
    return median;
  }

  private static double mbs(double bytes, double millis) {
    return bytes / 1e6 / (millis / 1000.0);
  }
}
