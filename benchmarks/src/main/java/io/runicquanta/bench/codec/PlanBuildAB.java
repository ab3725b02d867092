package io.runicquanta.bench.codec;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Locale;

/**
 * Plan building alone, A/B of two or more benchmark jars inside one JVM (each jar in its own class
 * loader, as {@link InJvmAB} does for whole operations): {@code EncodingPlan.forSourceSymbols(K)} and
 * {@code DecodingPlan.build(K, esis)} with the ESIs of {@link CpuBreakdown} (the first tenth of the
 * source symbols lost, K + 2 symbols received), for each K given. Both sides are warmed up, then
 * timed in turn, {@code rounds} times a batch of {@code batch} builds each (thread CPU; which side
 * goes first rotates); prints the median ms per build of each side and the median [p10, p90] of
 * the per-round ratio time of the first jar / time of this one (above 1: this one builds faster),
 * with each side's operation and inactive-column counts.
 *
 * <p>Usage: {@code java <flags> -cp benchmarks.jar io.runicquanta.bench.codec.PlanBuildAB a.jar
 * b.jar [c.jar ...] rounds batch K...}. With {@code digest a.jar b.jar K...} instead, prints per K whether the
 * encoding and the decoding programs of the two jars are identical (a SHA-256 of the operations,
 * source lists, coefficients and slot maps, read reflectively) and their operation counts.
 */
public final class PlanBuildAB {
  private PlanBuildAB() {}

  private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

  /** The plan classes of one jar. */
  private static final class Side {
    final Method enc;
    final Method dec;
    final Method encOps;
    final Method decOps;
    final Method encInactive;

    Side(String jar) throws Exception {
      URLClassLoader cl = new URLClassLoader(new URL[] {new File(jar).toURI().toURL()},
          ClassLoader.getPlatformClassLoader());
      Class<?> e = cl.loadClass("io.runicquanta.codec.raptorq.EncodingPlan");
      Class<?> d = cl.loadClass("io.runicquanta.codec.raptorq.DecodingPlan");
      enc = e.getMethod("forSourceSymbols", int.class);
      dec = d.getMethod("build", int.class, int[].class);
      encOps = e.getMethod("operationCount");
      decOps = d.getMethod("operationCount");
      encInactive = e.getMethod("inactiveColumns");
      System.out.println("loaded " + e.getProtectionDomain().getCodeSource().getLocation());
    }

    Object build(boolean decode, int k, int[] esis) throws Exception {
      return decode ? dec.invoke(null, k, esis) : enc.invoke(null, k);
    }
  }

  static int[] esis(int k) {
    int[] esis = new int[k + 2];
    for (int q = 0; q < esis.length; q++) {
      esis[q] = k / 10 + q;
    }
    return esis;
  }

  public static void main(String[] args) throws Exception {
    if (args[0].equals("digest")) {
      digest(args);
      return;
    }
    // Jars up to the first numeric argument; two or more, side 0 is the reference.
    int nj = 0;
    while (!args[nj].matches("[0-9]+")) {
      nj++;
    }
    Side[] sides = new Side[nj];
    for (int j = 0; j < nj; j++) {
      sides[j] = new Side(args[j]);
    }
    int pairs = Integer.parseInt(args[nj]);
    int batch = Integer.parseInt(args[nj + 1]);
    for (int a = nj + 2; a < args.length; a++) {
      int k = Integer.parseInt(args[a]);
      int[] esis = esis(k);
      for (boolean decode : new boolean[] {false, true}) {
        for (Side sd : sides) {
          long w0 = MX.getCurrentThreadCpuTime();
          while (MX.getCurrentThreadCpuTime() - w0 < 2_000_000_000L) {
            sd.build(decode, k, esis);
          }
        }
        double[][] ms = new double[nj][pairs];
        for (int p = 0; p < pairs; p++) {
          for (int jj = 0; jj < nj; jj++) {
            int j = (p + jj) % nj; // which side goes first rotates
            long t0 = MX.getCurrentThreadCpuTime();
            for (int b = 0; b < batch; b++) {
              sides[j].build(decode, k, esis);
            }
            ms[j][p] = (MX.getCurrentThreadCpuTime() - t0) / 1e6 / batch;
          }
        }
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < nj; j++) {
          Object plan = sides[j].build(decode, k, esis);
          sb.append(String.format(Locale.ROOT, "%n  side %d: %.4f ms, operations %d", j,
              q(ms[j], 0.5), (decode ? sides[j].decOps : sides[j].encOps).invoke(plan)));
          if (!decode) {
            sb.append(", inactive ").append(sides[j].encInactive.invoke(plan));
          }
          if (j > 0) {
            double[] ratio = new double[pairs];
            for (int p = 0; p < pairs; p++) {
              ratio[p] = ms[0][p] / ms[j][p];
            }
            sb.append(String.format(Locale.ROOT,
                "; time side 0 / side %d per round %.3f [p10 %.3f, p90 %.3f]", j, q(ratio, 0.5),
                q(ratio, 0.1), q(ratio, 0.9)));
          }
        }
        System.out.printf(Locale.ROOT, "K=%d %s build, median of %d rounds x %d builds, load %s:%s%n",
            k, decode ? "decode" : "encode", pairs, batch, loadAverage(), sb);
      }
    }
  }

  private static String loadAverage() {
    return String.format(Locale.ROOT, "%.2f",
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }

  private static void digest(String[] args) throws Exception {
    Side[] sides = {new Side(args[1]), new Side(args[2])};
    int same = 0;
    int total = 0;
    for (int a = 3; a < args.length; a++) {
      int k = Integer.parseInt(args[a]);
      int[] esis = esis(k);
      for (boolean decode : new boolean[] {false, true}) {
        String[] h = new String[2];
        int[] n = new int[2];
        for (int j = 0; j < 2; j++) {
          Object plan = sides[j].build(decode, k, esis);
          h[j] = hash(plan, decode);
          n[j] = (Integer) (decode ? sides[j].decOps : sides[j].encOps).invoke(plan);
        }
        total++;
        if (h[0].equals(h[1])) {
          same++;
        }
        System.out.printf(Locale.ROOT, "K=%d %s: %s (operations %d, %d)%n", k,
            decode ? "decode" : "encode", h[0].equals(h[1]) ? "identical" : "DIFFERENT", n[0], n[1]);
      }
    }
    System.out.printf(Locale.ROOT, "%d of %d programs identical%n", same, total);
  }

  private static String hash(Object plan, boolean decode) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    Object prog = get(plan, "program");
    update(md, get(prog, "ops"));
    update(md, get(prog, "lists"));
    update(md, get(prog, "coefs"));
    update(md, get(prog, "slots"));
    if (decode) {
      update(md, get(plan, "missSlots"));
      update(md, get(plan, "missStart"));
      update(md, get(plan, "sourceIndex"));
    } else {
      update(md, get(plan, "colToSlot"));
    }
    byte[] d = md.digest();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      sb.append(String.format("%02x", d[i]));
    }
    return sb.toString();
  }

  private static Object get(Object o, String name) throws Exception {
    Field f = o.getClass().getDeclaredField(name);
    f.setAccessible(true);
    return f.get(o);
  }

  private static void update(MessageDigest md, Object v) {
    if (v instanceof long[]) {
      md.update(Arrays.toString((long[]) v).getBytes());
    } else if (v instanceof int[]) {
      md.update(Arrays.toString((int[]) v).getBytes());
    } else if (v instanceof byte[]) {
      md.update((byte[]) v);
    } else {
      md.update(String.valueOf(v).getBytes());
    }
    md.update((byte) '|');
  }

  private static double q(double[] a, double f) {
    double[] c = a.clone();
    Arrays.sort(c);
    return c[(int) Math.min(c.length - 1, f * c.length)];
  }
}
