package io.runicquanta.bench.codec;

import java.util.Locale;

/**
 * Wall-time scaling of {@link MultiBlockBenchmark} (4 blocks of 16 MiB encoded on an executor of 1
 * and 2 threads) as the minimum over {@code runs} runs after warm-up. On a shared machine the
 * minimum filters out the runs in which other processes held the cores, which JMH's mean does not.
 * Also prints the median thread CPU time per block with 1 and with 2 threads: if a block costs as
 * much CPU with two threads running as with one, the two threads do not slow each other down (no
 * lock, allocator or page-fault contention), and 2 x that ratio bounds the speed-up an idle 2-core
 * machine can show (memory bandwidth aside); on a loaded machine the wall times say little.
 *
 * <p>Usage: {@code java --add-opens=java.base/java.nio=ALL-UNNAMED -cp benchmarks.jar
 * io.runicquanta.bench.codec.MultiBlockScaling [runs]}.
 */
public final class MultiBlockScaling {
  private MultiBlockScaling() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    double[] best = new double[3];
    double[] medWall = new double[3];
    double[] cpuPerBlock = new double[3];
    for (int threads = 1; threads <= 2; threads++) {
      MultiBlockBenchmark b = new MultiBlockBenchmark();
      b.threads = threads;
      b.symbolSize = 1280;
      b.setUp();
      try {
        for (int w = 0; w < 3; w++) {
          b.encodeFourBlocks();
        }
        double[] wall = new double[runs];
        double[] cpu = new double[runs];
        for (int r = 0; r < runs; r++) {
          b.cpuNanos.reset();
          long t0 = System.nanoTime();
          b.encodeFourBlocks();
          wall[r] = (System.nanoTime() - t0) / 1e6;
          cpu[r] = b.cpuNanos.sum() / 1e6 / MultiBlockBenchmark.BLOCKS;
        }
        java.util.Arrays.sort(wall);
        java.util.Arrays.sort(cpu);
        best[threads] = wall[0];
        medWall[threads] = wall[runs / 2];
        cpuPerBlock[threads] = cpu[runs / 2];
      } finally {
        b.tearDown();
      }
    }
    double bytes = 4.0 * 16 * (1 << 20);
    System.out.printf(Locale.ROOT,
        "4 blocks of 16 MiB, T=1280, encode on an executor, %d runs: wall best (median) 1 thread"
            + " %.0f (%.0f) ms = %.0f MB/s, 2 threads %.0f (%.0f) ms = %.0f MB/s, speed-up %.2fx"
            + " (median %.2fx); thread CPU per block (median) 1 thread %.0f ms, 2 threads %.0f ms"
            + " (CPU-bound speed-up bound 2 x %.2f = %.2fx)%n",
        runs, best[1], medWall[1], bytes / 1e3 / best[1], best[2], medWall[2],
        bytes / 1e3 / best[2], best[1] / best[2], medWall[1] / medWall[2], cpuPerBlock[1],
        cpuPerBlock[2], cpuPerBlock[1] / cpuPerBlock[2], 2 * cpuPerBlock[1] / cpuPerBlock[2]);
  }
}
