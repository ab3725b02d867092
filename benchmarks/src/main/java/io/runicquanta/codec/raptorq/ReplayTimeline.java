package io.runicquanta.codec.raptorq;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * The cached-plan encode replay of one cell, run back to back for {@code seconds} over one fixed
 * workspace and input (placement constant), printing every {@code windowMs} the wall-clock time
 * (epoch ms), the median thread-CPU ms of the replays in that window, their count and the share of
 * the machine's CPU time (all CPUs, from /proc/stat) that other processes used meanwhile: a timeline
 * to line up with what else ran on the machine (for example an antagonist started on the other
 * CPU by a script), since the placement and the compiled code stay the same throughout. Not a test.
 *
 * <p>Usage: {@code java <flags> -cp benchmarks.jar io.runicquanta.codec.raptorq.ReplayTimeline
 * MiB T seconds [windowMs]}.
 */
public final class ReplayTimeline {
  private ReplayTimeline() {}

  private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) {
    int mib = Integer.parseInt(args[0]);
    int t = Integer.parseInt(args[1]);
    int seconds = Integer.parseInt(args[2]);
    int windowMs = args.length > 3 ? Integer.parseInt(args[3]) : 500;
    int k = (int) ((((long) mib << 20) + t - 1) / t);
    try (BufferAllocator alloc = new RootAllocator()) {
      EncodingPlan ep = EncodingPlan.forSourceSymbols(k);
      List<ArrowBuf> owned = new ArrayList<>();
      ArrowBuf src = alloc.buffer((long) k * t);
      for (long i = 0; i + 8 <= src.capacity(); i += 8) {
        src.setLong(i, i * 0x9E3779B97F4A7C15L);
      }
      Tiling ws = Tiling.allocate(WorkspacePool.Source.of(alloc), ep.slots(), t, owned);
      long warm = MX.getCurrentThreadCpuTime() + 4_000_000_000L;
      while (MX.getCurrentThreadCpuTime() < warm) {
        SymbolOps.run(ep.program(), ws, src.memoryAddress(), t);
      }
      System.out.printf(Locale.ROOT, "# ReplayTimeline %d MiB / %d, ws at %d mod 4096, input at %d%n",
          mib, t, ws.pieceBase[0] % 4096, src.memoryAddress() % 4096);
      long[] prev = cpuTicks();
      long end = System.currentTimeMillis() + seconds * 1000L;
      double[] ms = new double[100_000];
      while (System.currentTimeMillis() < end) {
        long wEnd = System.currentTimeMillis() + windowMs;
        int n = 0;
        while (System.currentTimeMillis() < wEnd && n < ms.length) {
          long t0 = MX.getCurrentThreadCpuTime();
          SymbolOps.run(ep.program(), ws, src.memoryAddress(), t);
          ms[n++] = (MX.getCurrentThreadCpuTime() - t0) / 1e6;
        }
        Arrays.sort(ms, 0, n);
        long[] now = cpuTicks();
        long total = now[0] - prev[0];
        double others = total <= 0 ? 0
            : Math.max(0, (double) (now[1] - prev[1]) - (now[2] - prev[2])) / total;
        prev = now;
        System.out.printf(Locale.ROOT, "%d\t%.4f\t%d\t%.2f%n", System.currentTimeMillis(),
            n == 0 ? 0 : ms[n / 2], n, others);
      }
      for (ArrowBuf b : owned) {
        b.close();
      }
      src.close();
    }
  }

  /** Ticks since boot: all CPUs' total, all CPUs' busy, this process's user + system. */
  static long[] cpuTicks() {
    try {
      String[] c = java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/stat")).get(0)
          .trim().split("\\s+");
      long total = 0;
      long idle = 0;
      for (int i = 1; i < Math.min(c.length, 9); i++) {
        long v = Long.parseLong(c[i]);
        total += v;
        if (i == 4 || i == 5) {
          idle += v; // idle, iowait
        }
      }
      String st = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(
          "/proc/self/stat")));
      String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
      long self = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
      return new long[] {total, total - idle, self};
    } catch (java.io.IOException | RuntimeException e) {
      return new long[] {0, 0, 0};
    }
  }
}
