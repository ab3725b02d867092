package io.runicquanta.codec.raptorq;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Within one workspace, slots sit T bytes apart; with T = 1280 every distance between two slots is
 * a multiple of 256 modulo 4096 (and 16 slots apart the same address modulo 4096). Does a padded
 * slot pitch (T + pad bytes between slot starts) change the cached-plan encode replay of a
 * one-tile workspace? Pads interleaved per round (shuffled), thread CPU per replay. Not a test.
 *
 * <p>Usage: {@code java <flags> -cp benchmarks.jar io.runicquanta.codec.raptorq.SlotPitchSweep
 * MiB T rounds pad...}.
 */
public final class SlotPitchSweep {
  private SlotPitchSweep() {}

  private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) {
    int mib = Integer.parseInt(args[0]);
    int t = Integer.parseInt(args[1]);
    int rounds = Integer.parseInt(args[2]);
    int[] pads = Arrays.stream(args, 3, args.length).mapToInt(Integer::parseInt).toArray();
    int k = (int) ((((long) mib << 20) + t - 1) / t);
    try (BufferAllocator alloc = new RootAllocator()) {
      EncodingPlan ep = EncodingPlan.forSourceSymbols(k);
      SymbolProgram prog = ep.program();
      int slots = ep.slots();
      if (Tiling.stripeBytes(slots, t) != t) {
        throw new IllegalArgumentException("one-tile workspaces only");
      }
      int maxPad = Arrays.stream(pads).max().getAsInt();
      ArrowBuf src = alloc.buffer((long) k * t);
      for (long i = 0; i + 8 <= src.capacity(); i += 8) {
        src.setLong(i, i * 0x9E3779B97F4A7C15L);
      }
      ArrowBuf ws = alloc.buffer((long) slots * (t + maxPad) + 4096);
      ws.setZero(0, ws.capacity());
      long base = (ws.memoryAddress() + 4095) & ~4095L;
      long in = src.memoryAddress();
      long[] pa = new long[SymbolOps.SUM_MAX];
      long[] sa = new long[SymbolOps.SUM_MAX];
      double[][] ms = new double[pads.length][rounds];
      long[] check = new long[pads.length];
      Integer[] order = new Integer[pads.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Random rnd = new Random(3);
      long warmUntil = MX.getCurrentThreadCpuTime() + 4_000_000_000L;
      for (int r = -1; r < rounds; r++) {
        Collections.shuffle(Arrays.asList(order), rnd);
        for (int o : order) {
          long stride = t + pads[o];
          long t0 = MX.getCurrentThreadCpuTime();
          for (int q = 0; q < prog.ops.length; ) {
            q = SymbolOps.step(prog, q, base, stride, t, in, t, pa, sa);
          }
          long t1 = MX.getCurrentThreadCpuTime();
          if (r >= 0) {
            ms[o][r] = (t1 - t0) / 1e6;
          }
          long h = 0;
          for (int s = 0; s < slots - 7; s += 37) {
            h = h * 31 + ws.getLong(base - ws.memoryAddress() + s * stride + 8);
          }
          check[o] = h;
        }
        if (r == -1 && MX.getCurrentThreadCpuTime() < warmUntil) {
          r = -2;
        }
      }
      System.out.printf(Locale.ROOT, "# SlotPitchSweep %d MiB / %d, K = %d, %d slots, %d rounds, load %s%n",
          mib, t, k, slots, rounds, PlacementSweep.load());
      for (int o = 0; o < pads.length; o++) {
        double[] v = ms[o].clone();
        Arrays.sort(v);
        System.out.printf(Locale.ROOT, "pad %4d (pitch mod 4096 = %4d)\t%.4f [%.4f %.4f]\tsame result %b%n",
            pads[o], (t + pads[o]) % 4096, v[v.length / 2], v[v.length / 10], v[v.length * 9 / 10],
            check[o] == check[0]);
      }
      ws.close();
      src.close();
    }
  }
}
