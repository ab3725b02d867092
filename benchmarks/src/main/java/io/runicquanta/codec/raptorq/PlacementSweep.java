package io.runicquanta.codec.raptorq;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Does the placement of the codec's off-heap buffers modulo 4096 change its speed (4 KiB aliasing
 * between loads and older in-flight stores)? One JVM, one cell, every buffer the replay touches
 * (the input symbols, the workspace, the encoder's source copy, the output) carved out of a larger
 * allocation at a chosen offset modulo 4096, and the cached-plan replay, encode and decode timed
 * in thread CPU for many placements, interleaved (every round visits every placement once, in a
 * shuffled order), so that load drift hits all placements alike. Not a test; in this package
 * (benchmarks module) for access to the workspace internals ({@link Tiling}, {@link SymbolOps#run}).
 *
 * <p>Usage: {@code java <flags> -cp benchmarks.jar io.runicquanta.codec.raptorq.PlacementSweep
 * MiB T rounds vary [step]}: {@code vary} is the buffer whose offset moves in steps of {@code step}
 * bytes (default 64) over 0..4095 while the others stay at offset 16 (where glibc puts an mmap'ed
 * chunk): {@code ws} (workspace), {@code in} (input: source for encode, received symbols for
 * decode), {@code copy} (encoder's source copy), {@code out} (encoded / decoded symbols) or
 * {@code all} (every buffer moved together: the distances stay, only the absolute alignment
 * changes; the control). Prints, per offset, the median [p10, p90] CPU ms of each operation.
 */
public final class PlacementSweep {
  private PlacementSweep() {}

  private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
  static final int BASE_OFFSET = 16;

  /** A region of memory with room to place a buffer of up to max bytes at any offset mod 4096. */
  static final class Region {
    final ArrowBuf parent;
    final long aligned;
    final long max;

    Region(BufferAllocator a, long max) {
      this.max = max;
      parent = a.buffer(max + 8192);
      aligned = (parent.memoryAddress() + 4095) & ~4095L;
      // touch every page once
      parent.setZero(0, parent.capacity());
    }

    long delta(int off) {
      return aligned - parent.memoryAddress() + off;
    }

    ArrowBuf at(int off, long bytes) {
      if (bytes > max) {
        throw new IllegalArgumentException(bytes + " > " + max);
      }
      return parent.slice(delta(off), bytes);
    }
  }

  /** Hands out the i-th request of an operation from region i at the current offset; never frees. */
  static final class Placed implements WorkspacePool.Source {
    final Region[] regions;
    final int[] offsets;
    int next;

    Placed(Region[] regions, int[] offsets) {
      this.regions = regions;
      this.offsets = offsets;
    }

    @Override
    public ArrowBuf take(long bytes) {
      int i = next++;
      if (i >= regions.length) {
        throw new IllegalStateException("more requests than regions: " + (i + 1));
      }
      return regions[i].at(offsets[i], bytes);
    }

    @Override
    public void give(ArrowBuf b) {
      // slices of the regions: nothing to free
    }
  }

  public static void main(String[] args) {
    int mib = Integer.parseInt(args[0]);
    int t = Integer.parseInt(args[1]);
    int rounds = Integer.parseInt(args[2]);
    String vary = args[3];
    int step = args.length > 4 ? Integer.parseInt(args[4]) : 64;
    long bytes = (long) mib << 20;
    int k = (int) ((bytes + t - 1) / t);
    int repair = (k + 9) / 10;
    int lost = k / 10;
    try (BufferAllocator alloc = new RootAllocator()) {
      EncodingPlan ep = EncodingPlan.forSourceSymbols(k);
      int[] esis = new int[k + 2];
      for (int q = 0; q < k + 2; q++) {
        esis[q] = lost + q;
      }
      DecodingPlan dp = DecodingPlan.build(k, esis);
      long wsBytes = Math.max(Tiling.bytes(ep.slots(), t), Tiling.bytes(dp.slots(), t));
      long pieceMax = Math.min(wsBytes, Tiling.PIECE_BYTES);
      int wsPieces = (int) ((wsBytes + pieceMax - 1) / pieceMax) + 1;
      int copyPieces = (int) (((long) k * t + Tiling.PIECE_BYTES - 1) / Tiling.PIECE_BYTES);
      // requests of an encode: workspace pieces, then source copy pieces
      Region[] wsR = new Region[wsPieces];
      for (int i = 0; i < wsPieces; i++) {
        wsR[i] = new Region(alloc, pieceMax);
      }
      Region[] copyR = new Region[copyPieces];
      for (int i = 0; i < copyPieces; i++) {
        copyR[i] = new Region(alloc, Tiling.PIECE_BYTES);
      }
      Region inR = new Region(alloc, (long) (k + 2) * t);
      Region outR = new Region(alloc, (long) (k + repair) * t);
      // input data
      long x = 0x9E3779B97F4A7C15L;
      byte[] data = new byte[k * t];
      for (int i = 0; i + 8 <= data.length; i += 8) {
        x = x * 6364136223846793005L + 1442695040888963407L;
        for (int b = 0; b < 8; b++) {
          data[i + b] = (byte) (x >>> (8 * b));
        }
      }
      ArrowBuf received = alloc.buffer((long) (k + 2) * t);
      ArrowBuf tmpSrc = alloc.buffer((long) k * t);
      tmpSrc.setBytes(0, data);
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, ep, t, tmpSrc, 0)) {
        for (int q = 0; q < esis.length; q++) {
          enc.encodeSymbol(esis[q], received, (long) q * t);
        }
      }
      byte[] recv = new byte[(k + 2) * t];
      received.getBytes(0, recv);
      received.close();
      tmpSrc.close();

      int n = 4096 / step;
      int[] offs = new int[n];
      for (int i = 0; i < n; i++) {
        offs[i] = (BASE_OFFSET + i * step) % 4096;
      }
      String[] ops = {"encReplay", "encode", "decode"};
      double[][][] ms = new double[ops.length][n][rounds];
      Random rnd = new Random(42);
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      long warmUntil = MX.getCurrentThreadCpuTime() + 4_000_000_000L;
      for (int r = -1; r < rounds; r++) {
        java.util.Collections.shuffle(Arrays.asList(order), rnd);
        for (int oi = 0; oi < n; oi++) {
          int o = order[oi];
          int off = offs[o];
          int wsOff = pick(vary, "ws", off);
          int inOff = pick(vary, "in", off);
          int copyOff = pick(vary, "copy", off);
          int outOff = pick(vary, "out", off);
          int[] encOffsets = new int[wsPieces + copyPieces];
          Region[] encRegions = new Region[wsPieces + copyPieces];
          int wsUsed = (int) ((Tiling.bytes(ep.slots(), t) + pieceMax - 1) / pieceMax);
          for (int i = 0; i < wsUsed; i++) {
            encRegions[i] = wsR[i];
            encOffsets[i] = wsOff;
          }
          for (int i = 0; i < copyPieces; i++) {
            encRegions[wsUsed + i] = copyR[i];
            encOffsets[wsUsed + i] = copyOff;
          }
          ArrowBuf in = inR.at(inOff, (long) k * t);
          ArrowBuf out = outR.at(outOff, (long) (k + repair) * t);
          in.setBytes(0, data); // the decode below overwrites the region with received symbols
          // 1) replay of the cached encoding plan alone, workspace at wsOff
          {
            List<ArrowBuf> owned = new ArrayList<>();
            Placed p = new Placed(Arrays.copyOf(encRegions, wsUsed),
                Arrays.copyOf(encOffsets, wsUsed));
            Tiling ws = Tiling.allocate(p, ep.slots(), t, owned);
            long t0 = MX.getCurrentThreadCpuTime();
            SymbolOps.run(ep.program(), ws, in.memoryAddress(), t);
            long t1 = MX.getCurrentThreadCpuTime();
            if (r >= 0) {
              ms[0][o][r] = (t1 - t0) / 1e6;
            }
          }
          // 2) whole encode with the cached plan: source + 10 % repair symbols
          {
            Placed p = new Placed(encRegions, encOffsets);
            long t0 = MX.getCurrentThreadCpuTime();
            try (SourceBlockEncoder enc = SourceBlockEncoder.create(p, ep, t, in, 0, repair,
                DenseForm.DEFAULT_MODE)) {
              for (int e = 0; e < k + repair; e++) {
                enc.encodeSymbolTo(e, out.memoryAddress() + (long) e * t);
              }
            }
            long t1 = MX.getCurrentThreadCpuTime();
            if (r >= 0) {
              ms[1][o][r] = (t1 - t0) / 1e6;
            }
          }
          // 3) decode with the cached plan: received symbols at inOff, decoded at outOff
          {
            ArrowBuf rin = inR.at(inOff, (long) (k + 2) * t);
            rin.setBytes(0, recv);
            Placed p = new Placed(Arrays.copyOf(wsR, wsPieces), fill(wsPieces, wsOff));
            long t0 = MX.getCurrentThreadCpuTime();
            SourceBlockDecoder.decode(p, dp, t, rin, 0, out, 0, DenseForm.DEFAULT_MODE);
            long t1 = MX.getCurrentThreadCpuTime();
            if (r >= 0) {
              ms[2][o][r] = (t1 - t0) / 1e6;
            }
            // check a few words of the decoded source
            for (long i = 0; i + 8 <= (long) k * t; i += 65536) {
              long want = 0;
              for (int b = 7; b >= 0; b--) {
                want = (want << 8) | (data[(int) i + b] & 0xFF);
              }
              if (out.getLong(i) != want) {
                throw new IllegalStateException("decode check failed at " + i + " offset " + off);
              }
            }
          }
        }
        if (r == -1 && MX.getCurrentThreadCpuTime() < warmUntil) {
          r = -2; // keep warming
        }
      }
      System.out.printf(Locale.ROOT,
          "# PlacementSweep %d MiB / %d, K = %d, vary %s, step %d, rounds %d, load %s%n",
          mib, t, k, vary, step, rounds, load());
      System.out.printf(Locale.ROOT, "# regions (addr mod 4096 before offset): ws %s copy %s in %d out %d%n",
          Arrays.toString(Arrays.stream(wsR).mapToLong(g -> g.aligned % 4096).toArray()),
          Arrays.toString(Arrays.stream(copyR).mapToLong(g -> g.aligned % 4096).toArray()),
          inR.aligned % 4096, outR.aligned % 4096);
      System.out.print("offset");
      for (String op : ops) {
        System.out.print("\t" + op + " med [p10 p90] ms");
      }
      System.out.println();
      for (int o = 0; o < n; o++) {
        System.out.print(offs[o]);
        for (int q = 0; q < ops.length; q++) {
          double[] v = ms[q][o].clone();
          Arrays.sort(v);
          System.out.printf(Locale.ROOT, "\t%.4f [%.4f %.4f]", v[v.length / 2],
              v[v.length / 10], v[v.length * 9 / 10]);
        }
        System.out.println();
      }
      for (Region g : wsR) {
        g.parent.close();
      }
      for (Region g : copyR) {
        g.parent.close();
      }
      inR.parent.close();
      outR.parent.close();
    }
  }

  private static int[] fill(int n, int v) {
    int[] a = new int[n];
    Arrays.fill(a, v);
    return a;
  }

  private static int pick(String vary, String role, int off) {
    return vary.equals(role) || vary.equals("all") ? off : BASE_OFFSET;
  }

  static String load() {
    try {
      return new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/loadavg")))
          .trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
