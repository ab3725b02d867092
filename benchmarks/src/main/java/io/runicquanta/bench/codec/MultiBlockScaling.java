package io.runicquanta.bench.codec;

import java.util.Locale;

/**
 * Wall-time scaling of {@link MultiBlockBenchmark} (4 blocks of 16 MiB encoded on an executor of 1
 * and 2 threads) as the minimum over {@code runs} runs after warm-up. On a shared machine the
 * minimum filters out the runs in which other processes held the cores, which JMH's mean does not.
 *
 * <p>Usage: {@code java --add-opens=java.base/java.nio=ALL-UNNAMED -cp benchmarks.jar
 * io.runicquanta.bench.codec.MultiBlockScaling [runs]}.
 */
public final class MultiBlockScaling {
  private MultiBlockScaling() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    double[] best = new double[3];
    for (int threads = 1; threads <= 2; threads++) {
      MultiBlockBenchmark b = new MultiBlockBenchmark();
      b.threads = threads;
      b.symbolSize = 1280;
      b.setUp();
      try {
        for (int w = 0; w < 3; w++) {
          b.encodeFourBlocks();
        }
        double min = Double.MAX_VALUE;
        for (int r = 0; r < runs; r++) {
          long t0 = System.nanoTime();
          b.encodeFourBlocks();
          min = Math.min(min, (System.nanoTime() - t0) / 1e6);
        }
        best[threads] = min;
      } finally {
        b.tearDown();
      }
    }
    double bytes = 4.0 * 16 * (1 << 20);
    System.out.printf(Locale.ROOT,
        "4 blocks of 16 MiB, T=1280, encode on an executor, best of %d runs (wall): 1 thread %.0f"
            + " ms (%.0f MB/s), 2 threads %.0f ms (%.0f MB/s), speed-up %.2fx%n",
        runs, best[1], bytes / 1e3 / best[1], best[2], bytes / 1e3 / best[2], best[1] / best[2]);
  }
}
