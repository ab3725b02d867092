package io.runicquanta.bench.codec;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.Locale;

/**
 * A/B of two benchmark jars inside one JVM, for a machine whose load changes from minute to minute:
 * each jar is loaded in its own class loader (nothing shared but the JDK), one {@link
 * RaptorQBenchmark} cell per jar is set up, both are warmed up, then the operation runs on A and on
 * B alternately, {@code pairs} times, each run timed in thread CPU. Load drift hits both sides of a
 * pair alike; the median of the per-pair ratios B/A is the figure to read.
 *
 * <p>Usage: {@code java -Xms2g -Xmx2g -XX:+AlwaysPreTouch <flags> -cp benchmarks.jar
 * io.runicquanta.bench.codec.InJvmAB old.jar new.jar MiB T pairs op...} with op among encode,
 * decode, encodeCachedPlan, decodeCachedPlan.
 */
public final class InJvmAB {
  private InJvmAB() {}

  private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) throws Exception {
    Object[] cells = new Object[2];
    for (int j = 0; j < 2; j++) {
      URLClassLoader cl = new URLClassLoader(new URL[] {new File(args[j]).toURI().toURL()},
          ClassLoader.getPlatformClassLoader());
      Class<?> c = cl.loadClass("io.runicquanta.bench.codec.RaptorQBenchmark");
      Object b = c.getConstructor().newInstance();
      c.getField("objectMiB").setInt(b, Integer.parseInt(args[2]));
      c.getField("symbolSize").setInt(b, Integer.parseInt(args[3]));
      c.getMethod("setUp").invoke(b);
      cells[j] = b;
    }
    int mib = Integer.parseInt(args[2]);
    int pairs = Integer.parseInt(args[4]);
    for (int o = 5; o < args.length; o++) {
      Method[] m = new Method[2];
      for (int j = 0; j < 2; j++) {
        m[j] = cells[j].getClass().getMethod(args[o]);
        long w0 = MX.getCurrentThreadCpuTime();
        while (MX.getCurrentThreadCpuTime() - w0 < 2_000_000_000L) {
          m[j].invoke(cells[j]);
        }
      }
      double[][] ms = new double[2][pairs];
      double[] ratio = new double[pairs];
      for (int p = 0; p < pairs; p++) {
        for (int jj = 0; jj < 2; jj++) {
          int j = (p & 1) == 0 ? jj : 1 - jj; // alternate which side goes first
          long t0 = MX.getCurrentThreadCpuTime();
          m[j].invoke(cells[j]);
          ms[j][p] = (MX.getCurrentThreadCpuTime() - t0) / 1e6;
        }
        ratio[p] = ms[0][p] / ms[1][p];
      }
      double bytes = (double) mib * (1 << 20);
      System.out.printf(Locale.ROOT,
          "%d MiB / %s %-17s A %s MB/s, B %s MB/s (median, [p10, p90] of %d runs each);"
              + " speed B/A per pair: median %.3f [p10 %.3f, p90 %.3f]%n",
          mib, args[3], args[o], mbs(bytes, ms[0]), mbs(bytes, ms[1]), pairs,
          q(ratio, 0.5), q(ratio, 0.1), q(ratio, 0.9));
    }
    for (Object b : cells) {
      b.getClass().getMethod("tearDown").invoke(b);
    }
  }

  private static String mbs(double bytes, double[] ms) {
    return String.format(Locale.ROOT, "%.0f [%.0f, %.0f]", bytes / 1e3 / q(ms, 0.5),
        bytes / 1e3 / q(ms, 0.9), bytes / 1e3 / q(ms, 0.1));
  }

  private static double q(double[] a, double f) {
    double[] c = a.clone();
    Arrays.sort(c);
    return c[(int) Math.min(c.length - 1, f * c.length)];
  }
}
