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
 * before the JIT had compiled it, at a third of its speed), then {@code runs} timed runs; the median is
 * reported as MB/s of object per CPU second, next to the XOR of the same bytes timed the same way.
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
          double xor = mbs(bytes, time(b::xorBaseline, runs));
          double enc = mbs(bytes, time(b::encode, runs));
          placement(b, mib, t, "encode");
          double dec = mbs(bytes, time(b::decode, runs));
          placement(b, mib, t, "decode");
          double encC = mbs(bytes, time(b::encodeCachedPlan, runs));
          placement(b, mib, t, "encodeCachedPlan");
          double decC = mbs(bytes, time(b::decodeCachedPlan, runs));
          placement(b, mib, t, "decodeCachedPlan");
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

  /** Median CPU milliseconds of one run of op. */
  static double time(Op op, int runs) {
    long warmStart = MX.getCurrentThreadCpuTime();
    int warm = 0;
    while (warm < 3 || MX.getCurrentThreadCpuTime() - warmStart < 3_000_000_000L) {
      op.run();
      warm++;
    }
    double[] ms = new double[runs];
    for (int r = 0; r < runs; r++) {
      long t0 = MX.getCurrentThreadCpuTime();
      op.run();
      ms[r] = (MX.getCurrentThreadCpuTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    return ms[runs / 2];
  }

  private static double mbs(double bytes, double millis) {
    return bytes / 1e6 / (millis / 1000.0);
  }
}
