package io.runicquanta.codec.raptorq;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Does the physical placement of the workspace (which pages malloc and the kernel gave it) change
 * the speed of a replay, all virtual offsets modulo 4096 equal? One JVM, one cell: {@code regions}
 * workspaces, each its own allocation (fresh pages), all at the same offset modulo 4096, the input
 * and output fixed; the cached-plan encode replay and decode run over each workspace in turn,
 * interleaved (shuffled order per round), timed in thread CPU. Per workspace: median [p10, p90]
 * of each half of the rounds (a placement effect repeats in both halves, noise does not) and,
 * when /proc/self/pagemap gives frame numbers (root), the spread of its 4 KiB pages over the 16
 * page colours of a 1 MiB 16-way L2 (frame number mod 16). Not a test.
 *
 * <p>Usage: {@code java <flags> -cp benchmarks.jar io.runicquanta.codec.raptorq.PagePlacement
 * MiB T regions rounds}.
 */
public final class PagePlacement {
  private PagePlacement() {}

  private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

  public static void main(String[] args) throws IOException {
    int mib = Integer.parseInt(args[0]);
    int t = Integer.parseInt(args[1]);
    int nReg = Integer.parseInt(args[2]);
    int rounds = Integer.parseInt(args[3]);
    long bytes = (long) mib << 20;
    int k = (int) ((bytes + t - 1) / t);
    int lost = k / 10;
    try (BufferAllocator alloc = new RootAllocator()) {
      EncodingPlan ep = EncodingPlan.forSourceSymbols(k);
      int[] esis = new int[k + 2];
      for (int q = 0; q < k + 2; q++) {
        esis[q] = lost + q;
      }
      DecodingPlan dp = DecodingPlan.build(k, esis);
      long wsBytes = Math.max(Tiling.bytes(ep.slots(), t), Tiling.bytes(dp.slots(), t));
      if (wsBytes > Tiling.PIECE_BYTES) {
        throw new IllegalArgumentException("workspace of one piece only: " + wsBytes);
      }
      PlacementSweep.Region inR = new PlacementSweep.Region(alloc, (long) (k + 2) * t);
      PlacementSweep.Region outR = new PlacementSweep.Region(alloc, (long) k * t);
      PlacementSweep.Region[] ws = new PlacementSweep.Region[nReg];
      for (int i = 0; i < nReg; i++) {
        ws[i] = new PlacementSweep.Region(alloc, wsBytes);
      }
      ArrowBuf src = alloc.buffer((long) k * t);
      long x = 0x9E3779B97F4A7C15L;
      for (long i = 0; i + 8 <= src.capacity(); i += 8) {
        x = x * 6364136223846793005L + 1442695040888963407L;
        src.setLong(i, x);
      }
      ArrowBuf in = inR.at(PlacementSweep.BASE_OFFSET, (long) (k + 2) * t);
      ArrowBuf out = outR.at(PlacementSweep.BASE_OFFSET, (long) k * t);
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, ep, t, src, 0)) {
        for (int q = 0; q < esis.length; q++) {
          enc.encodeSymbol(esis[q], in, (long) q * t);
        }
      }
      double[][][] ms = new double[2][nReg][rounds];
      Integer[] order = new Integer[nReg];
      for (int i = 0; i < nReg; i++) {
        order[i] = i;
      }
      Random rnd = new Random(7);
      long warmUntil = MX.getCurrentThreadCpuTime() + 4_000_000_000L;
      for (int r = -1; r < rounds; r++) {
        Collections.shuffle(Arrays.asList(order), rnd);
        for (int o : order) {
          List<ArrowBuf> owned = new ArrayList<>();
          PlacementSweep.Placed p = new PlacementSweep.Placed(
              new PlacementSweep.Region[] {ws[o]}, new int[] {PlacementSweep.BASE_OFFSET});
          Tiling tl = Tiling.allocate(p, ep.slots(), t, owned);
          long t0 = MX.getCurrentThreadCpuTime();
          SymbolOps.run(ep.program(), tl, src.memoryAddress(), t);
          long t1 = MX.getCurrentThreadCpuTime();
          p = new PlacementSweep.Placed(
              new PlacementSweep.Region[] {ws[o]}, new int[] {PlacementSweep.BASE_OFFSET});
          SourceBlockDecoder.decode(p, dp, t, in, 0, out, 0, DenseForm.OFF);
          long t2 = MX.getCurrentThreadCpuTime();
          if (r >= 0) {
            ms[0][o][r] = (t1 - t0) / 1e6;
            ms[1][o][r] = (t2 - t1) / 1e6;
          }
          if (out.getLong(8) != src.getLong(8)) {
            throw new IllegalStateException("decode check failed");
          }
        }
        if (r == -1 && MX.getCurrentThreadCpuTime() < warmUntil) {
          r = -2;
        }
      }
      System.out.printf(Locale.ROOT, "# PagePlacement %d MiB / %d, K = %d, %d workspaces of %d B,"
          + " %d rounds, load %s%n", mib, t, k, nReg, wsBytes, rounds, PlacementSweep.load());
      System.out.println("# ws\taddr%4096\tencReplay 1st half med [p10 p90]\t2nd half\t"
          + "decode 1st half\t2nd half\tpages per colour (frame mod 16): max min");
      int h = rounds / 2;
      for (int i = 0; i < nReg; i++) {
        StringBuilder sb = new StringBuilder();
        sb.append(i).append('\t').append(ws[i].aligned % 4096);
        for (int q = 0; q < 2; q++) {
          sb.append('\t').append(stat(Arrays.copyOfRange(ms[q][i], 0, h)));
          sb.append('\t').append(stat(Arrays.copyOfRange(ms[q][i], h, rounds)));
        }
        sb.append('\t').append(colours(ws[i].aligned + PlacementSweep.BASE_OFFSET,
            Tiling.bytes(ep.slots(), t)));
        System.out.println(sb);
      }
      System.out.println("# input colours " + colours(in.memoryAddress(), (long) (k + 2) * t)
          + ", source " + colours(src.memoryAddress(), (long) k * t));
      src.close();
      inR.parent.close();
      outR.parent.close();
      for (PlacementSweep.Region g : ws) {
        g.parent.close();
      }
    }
  }

  private static String stat(double[] v) {
    v = v.clone();
    Arrays.sort(v);
    return String.format(Locale.ROOT, "%.4f [%.4f %.4f]", v[v.length / 2], v[v.length / 10],
        v[v.length * 9 / 10]);
  }

  /** Pages of [addr, addr + len) per frame colour (frame number mod 16): max, min; "?" if unknown. */
  static String colours(long addr, long len) {
    int[] c = new int[16];
    try (RandomAccessFile f = new RandomAccessFile("/proc/self/pagemap", "r")) {
      byte[] e = new byte[8];
      for (long p = addr >>> 12; p <= (addr + len - 1) >>> 12; p++) {
        f.seek(p * 8);
        f.readFully(e);
        long v = 0;
        for (int b = 7; b >= 0; b--) {
          v = (v << 8) | (e[b] & 0xFF);
        }
        long pfn = v & ((1L << 55) - 1);
        if (pfn == 0) {
          return "?";
        }
        c[(int) (pfn & 15)]++;
      }
    } catch (IOException ex) {
      return "?";
    }
    int max = Arrays.stream(c).max().getAsInt();
    int min = Arrays.stream(c).min().getAsInt();
    return max + " " + min + " " + Arrays.toString(c);
  }
}
