package io.runicquanta.bench.codec;

import java.util.Arrays;
import java.util.Locale;

/**
 * Wall-time scaling of {@link MultiBlockBenchmark} (4 blocks of 16 MiB encoded, plan from scratch
 * per block, on an executor of 1 and of 2 threads).
 *
 * <p>Both executors are set up and warmed up first (3 runs each), then timed in {@code runs} rounds;
 * each round times one run on 1 thread and one on 2 threads, in alternating order, so that both see
 * the same seconds of the machine and the same state of the JIT. (Until 2026-12-01 the 1-thread runs
 * were all timed before the 2-thread runs: the 1-thread figure then carried whatever compilation was
 * still going on, and a slow phase of the shared VM hit one side only.) Reports the median of the
 * per-round speed-ups (1-thread wall time / 2-thread wall time of the same round), best against
 * best, and the median thread CPU time per block with 1 and with 2 threads: if a block costs as much
 * CPU with two threads running as with one, the two threads do not slow each other down (no lock,
 * allocator, page-fault or cache contention), and 2 x that ratio bounds the speed-up an idle 2-core
 * machine can show. The figure is the median over several fresh JVMs (forks) of the median
 * speed-up.
 *
 * <p>Usage: {@code java -Xms2g -Xmx2g -XX:+AlwaysPreTouch --add-opens=java.base/java.nio=ALL-UNNAMED
 * -cp benchmarks.jar io.runicquanta.bench.codec.MultiBlockScaling [runs]} (default 9 rounds).
 */
public final class MultiBlockScaling {
  private MultiBlockScaling() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 9;
    MultiBlockBenchmark[] b = new MultiBlockBenchmark[3];
    for (int threads = 1; threads <= 2; threads++) {
      b[threads] = new MultiBlockBenchmark();
      b[threads].threads = threads;
      b[threads].symbolSize = 1280;
      b[threads].setUp();
    }
    try {
      for (int w = 0; w < 3; w++) {
        b[1].encodeFourBlocks();
        b[2].encodeFourBlocks();
      }
      double[][] wall = new double[3][runs];
      double[][] cpu = new double[3][runs];
      double[] speedup = new double[runs];
      for (int r = 0; r < runs; r++) {
        int first = (r % 2 == 0) ? 1 : 2;
        for (int i = 0; i < 2; i++) {
          int t = i == 0 ? first : 3 - first;
          b[t].cpuNanos.reset();
          long t0 = System.nanoTime();
          b[t].encodeFourBlocks();
          wall[t][r] = (System.nanoTime() - t0) / 1e6;
          cpu[t][r] = b[t].cpuNanos.sum() / 1e6 / MultiBlockBenchmark.BLOCKS;
        }
        speedup[r] = wall[1][r] / wall[2][r];
      }
      double bytes = 4.0 * 16 * (1 << 20);
      double best1 = min(wall[1]);
      double best2 = min(wall[2]);
      double cpu1 = median(cpu[1]);
      double cpu2 = median(cpu[2]);
      System.out.printf(Locale.ROOT,
          "4 blocks of 16 MiB, T=1280, encode on an executor, %d alternating rounds: speed-up median"
              + " %.2fx (rounds %s); wall median 1 thread %.0f ms = %.0f MB/s, 2 threads %.0f ms = %.0f"
              + " MB/s; best %.0f / %.0f ms (%.2fx); thread CPU per block (median) 1 thread %.0f ms,"
              + " 2 threads %.0f ms (CPU-bound speed-up bound 2 x %.2f = %.2fx)%n",
          runs, median(speedup), fmt(speedup), median(wall[1]), bytes / 1e3 / median(wall[1]),
          median(wall[2]), bytes / 1e3 / median(wall[2]), best1, best2, best1 / best2, cpu1, cpu2,
          cpu1 / cpu2, 2 * cpu1 / cpu2);
    } finally {
      b[1].tearDown();
      b[2].tearDown();
    }
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  static double min(double[] v) {
    return Arrays.stream(v).min().orElse(Double.NaN);
  }

  static String fmt(double[] v) {
    StringBuilder sb = new StringBuilder();
    for (double x : v) {
      sb.append(sb.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.2f", x));
    }
    return sb.toString();
  }
}
