package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fused programs (runs of XORs into one slot replayed as one {@code OP_XOR_MANY}, see {@code
 * PlanBuilder}, "Fused XORs") against the unfused ones the builder records: for many K, symbol
 * sizes and received ESI sets (source only, random erasures with repair symbols, repair only),
 * both programs run on the same random input and every intermediate symbol they leave (all L, or
 * only those a decoder reads) must be equal byte for byte. Random input is enough: a program is a
 * fixed linear map whatever the data.
 */
@ExtendWith(AllocatorExtension.class)
class FusedProgramTest {
  private static final long RUN_SEED = System.nanoTime();

  @Test
  void fusedEqualsUnfusedOverManyPlans(BufferAllocator alloc) throws Exception {
    long seed = RUN_SEED;
    System.out.println("fused vs unfused, seed=" + seed);
    Random rnd = new Random(seed);
    List<Integer> ks = new ArrayList<>(List.of(1, 2, 3, 4, 5, 10, 17, 18, 55, 101, 257, 820));
    for (int i = 0; i < 12; i++) {
      ks.add(1 + rnd.nextInt(1500));
    }
    int[] sizes = {1, 3, 8, 13, 40, 256, 1280, 1283};
    int plans = 0;
    for (int k : ks) {
      SystematicParams p = SystematicParams.forSourceSymbols(k);
      for (int kind = 0; kind < 4; kind++) {
        int t = sizes[rnd.nextInt(sizes.length)];
        compare(alloc, p, kind, t, rnd, k + "/" + kind + "/T=" + t + "/seed=" + seed);
        plans++;
      }
    }
    // Several cache tiles (Tiling), odd last width.
    compare(alloc, SystematicParams.forSourceSymbols(100), 1, 65531, rnd, "K=100 T=65531");
    compare(alloc, SystematicParams.forSourceSymbols(300), 0, 40000, rnd, "K=300 T=40000");
    assertTrue(plans > 90);
  }

  /** kind 0: encoding; 1: random erasures; 2: repair only; 3: erasures, only the missing read. */
  private static void compare(
      BufferAllocator alloc, SystematicParams p, int kind, int t, Random rnd, String what)
      throws Exception {
    int k = p.k();
    int kp = p.kPrime();
    int[] isis;
    int[] input;
    int[] outputCols = null;
    if (kind == 0) {
      isis = new int[kp];
      input = new int[kp];
      for (int i = 0; i < kp; i++) {
        isis[i] = i;
        input[i] = i < k ? i : -1;
      }
    } else {
      List<Integer> esis = new ArrayList<>();
      List<Integer> missing = new ArrayList<>();
      for (int e = 0; e < k; e++) {
        if (kind != 2 && rnd.nextInt(4) != 0) {
          esis.add(e);
        } else {
          missing.add(e);
        }
      }
      int repair = k - esis.size() + 2;
      for (int r = 0; r < repair; r++) {
        esis.add(k + r * (1 + rnd.nextInt(3)));
      }
      java.util.Collections.shuffle(esis, rnd);
      int nu = esis.size();
      isis = new int[nu + kp - k];
      input = new int[isis.length];
      for (int q = 0; q < nu; q++) {
        int e = esis.get(q);
        isis[q] = e < k ? e : e + kp - k;
        input[q] = q;
      }
      for (int q = 0; q < kp - k; q++) {
        isis[nu + q] = k + q;
        input[nu + q] = -1;
      }
      if (kind == 3 && !missing.isEmpty()) {
        int[] tmp = new int[46];
        List<Integer> cols = new ArrayList<>();
        for (int e : missing) {
          int m = Generators.encIndices(p, e, tmp, tmp, 6);
          for (int q = 0; q < m; q++) {
            cols.add(tmp[6 + q]);
          }
        }
        outputCols = cols.stream().mapToInt(Integer::intValue).toArray();
      }
    }
    PlanBuilder.Result fused;
    PlanBuilder.Result plain;
    try {
      fused = new PlanBuilder(p, isis, input).solve(outputCols);
      PlanBuilder b = new PlanBuilder(p, isis, input);
      b.fuse = false;
      plain = b.solve(outputCols);
    } catch (PlanBuilder.RankDeficientException e) {
      return; // a random repair set may be short of rank; nothing to compare
    }
    assertArrayEquals(plain.colToSlot, fused.colToSlot, what);
    assertEquals(0, plain.program.lists.length, what);
    if (plain.program.size() > 20) {
      assertTrue(fused.program.size() < plain.program.size(), what + ": nothing fused");
    }
    int rows = isis.length;
    byte[] data = SplitMix64.bytes(rnd.nextLong(), rows * t);
    int[] cols = outputCols;
    if (cols == null) {
      cols = new int[p.l()];
      for (int c = 0; c < cols.length; c++) {
        cols[c] = c;
      }
    }
    try (ArrowBuf in = alloc.buffer((long) rows * t)) {
      in.setBytes(0, data);
      byte[][] a = run(alloc, fused, in, t, cols);
      byte[][] b = run(alloc, plain, in, t, cols);
      for (int c = 0; c < cols.length; c++) {
        assertArrayEquals(b[c], a[c], what + ": intermediate symbol " + cols[c]);
      }
    }
  }

  private static byte[][] run(
      BufferAllocator alloc, PlanBuilder.Result r, ArrowBuf in, int t, int[] cols) {
    List<ArrowBuf> bufs = new ArrayList<>();
    try {
      Tiling ws =
          Tiling.allocate(WorkspacePool.Source.of(alloc), r.program.workspaceSlots(), t, bufs);
      for (ArrowBuf b : bufs) {
        b.setZero(0, b.capacity()); // garbage in unwritten slots would differ between the runs
      }
      SymbolOps.run(r.program, ws, in.memoryAddress(), t);
      byte[][] out = new byte[cols.length][t];
      for (int c = 0; c < cols.length; c++) {
        int slot = r.colToSlot[cols[c]];
        for (int i = 0; i < ws.tiles; i++) {
          long from = ws.address(i, slot);
          int w = ws.width(i);
          for (int j = 0; j < w; j++) {
            out[c][(int) ws.offset(i) + j] = SymbolOps.U.getByte(from + j);
          }
        }
      }
      return out;
    } finally {
      bufs.forEach(ArrowBuf::close);
    }
  }
}
