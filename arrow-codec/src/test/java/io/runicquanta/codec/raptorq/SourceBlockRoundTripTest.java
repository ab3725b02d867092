package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.UndecodableBlockException;
import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random round trips: encode, erase at random, decode from a random mix of source and repair
 * symbols (or repair only), compare; plus the error contract of plans, encoder and decoder.
 */
@ExtendWith(AllocatorExtension.class)
class SourceBlockRoundTripTest {
  private static final long RUN_SEED = System.nanoTime();

  static Stream<Arguments> geometries() {
    List<Arguments> out = new ArrayList<>();
    long[] seeds = {1L, 0x5EEDL, 20261122L, RUN_SEED};
    int[][] kt = {
      {1, 1}, {1, 64}, {2, 3}, {10, 13}, {10, 1}, {101, 8}, {101, 77}, {1000, 13}, {1000, 64},
      {5000, 3}, {12, 1280}
    };
    int i = 0;
    for (int[] c : kt) {
      out.add(Arguments.of(c[0], c[1], seeds[i++ % seeds.length]));
    }
    out.add(Arguments.of(333, 24, RUN_SEED));
    // Workspaces larger than one cache tile (Tiling): several tiles, odd last width.
    out.add(Arguments.of(300, 40000, 7L));
    out.add(Arguments.of(64, 65531, RUN_SEED));
    return out.stream();
  }

  @ParameterizedTest(name = "K={0} T={1} seed={2}")
  @MethodSource("geometries")
  void randomErasuresDecode(int k, int t, long seed, BufferAllocator alloc) {
    System.out.println("round trip K=" + k + " T=" + t + " seed=" + seed);
    Random rnd = new Random(seed);
    byte[] data = SplitMix64.bytes(seed, k * t);
    EncodingPlan plan = EncodingPlan.forSourceSymbols(k);
    int repair = k + 10;
    int srcOff = 1 + rnd.nextInt(13);
    try (ArrowBuf src = alloc.buffer(srcOff + (long) k * t);
        ArrowBuf all = alloc.buffer((long) (k + repair) * t)) {
      src.setBytes(srcOff, data);
      // repair ESIs: K.. plus a few far ones
      int[] esiOf = new int[k + repair];
      for (int e = 0; e < k + repair; e++) {
        esiOf[e] = e;
      }
      esiOf[k + repair - 1] = 0xFFFFFF;
      esiOf[k + repair - 2] = 100000 + rnd.nextInt(1000);
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, t, src, srcOff)) {
        for (int q = 0; q < esiOf.length; q++) {
          enc.encodeSymbol(esiOf[q], all, (long) q * t);
        }
      }
      byte[] firstK = new byte[k * t];
      all.getBytes(0, firstK, 0, k * t);
      assertArrayEquals(data, firstK, "source ESIs give the source symbols, seed=" + seed);
      for (int trial = 0; trial < 3; trial++) {
        boolean repairOnly = trial == 2;
        // choose K + 2 + extra distinct positions
        int extra = rnd.nextInt(3);
        int want = Math.min(k + 2 + extra, repairOnly ? repair : k + repair);
        List<Integer> pool = new ArrayList<>();
        for (int q = repairOnly ? k : 0; q < k + repair; q++) {
          pool.add(q);
        }
        java.util.Collections.shuffle(pool, rnd);
        int[] pos = new int[want];
        int[] esis = new int[want];
        for (int q = 0; q < want; q++) {
          pos[q] = pool.get(q);
          esis[q] = esiOf[pos[q]];
        }
        DecodingPlan dp;
        try {
          dp = DecodingPlan.build(k, esis);
        } catch (UndecodableBlockException e) {
          // allowed with a tiny probability at K+2; never silently wrong
          System.out.println("  undecodable with " + want + " symbols (seed=" + seed + ")");
          continue;
        }
        int inOff = rnd.nextInt(9);
        int outOff = rnd.nextInt(9);
        try (ArrowBuf in = alloc.buffer(inOff + (long) want * t);
            ArrowBuf out = alloc.buffer(outOff + (long) k * t)) {
          for (int q = 0; q < want; q++) {
            in.setBytes(inOff + (long) q * t, all, (long) pos[q] * t, t);
          }
          SourceBlockDecoder.decode(alloc, dp, t, in, inOff, out, outOff);
          byte[] got = new byte[k * t];
          out.getBytes(outOff, got, 0, k * t);
          assertArrayEquals(data, got,
              "K=" + k + " T=" + t + " trial " + trial + " repairOnly=" + repairOnly + " seed=" + seed);
        }
      }
    }
  }

  @Test
  void samePlanServesSubBlocksOfDifferentSizes(BufferAllocator alloc) {
    int k = 57;
    EncodingPlan plan = EncodingPlan.forSourceSymbols(k);
    int[] esis = new int[k + 3];
    for (int q = 0; q < esis.length; q++) {
      esis[q] = q + 5; // lose source 0..4
    }
    DecodingPlan dp = DecodingPlan.build(k, esis);
    for (int t : new int[] {4, 8, 12, 1000}) {
      byte[] data = SplitMix64.bytes(t, k * t);
      try (ArrowBuf src = alloc.buffer((long) k * t);
          ArrowBuf in = alloc.buffer((long) esis.length * t);
          ArrowBuf out = alloc.buffer((long) k * t)) {
        src.setBytes(0, data);
        try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, t, src, 0)) {
          for (int q = 0; q < esis.length; q++) {
            enc.encodeSymbol(esis[q], in, (long) q * t);
          }
        }
        SourceBlockDecoder.decode(alloc, dp, t, in, 0, out, 0);
        byte[] got = new byte[k * t];
        out.getBytes(0, got, 0, got.length);
        assertArrayEquals(data, got, "sub-symbol size " + t);
      }
    }
  }

  @Test
  void tooFewSymbolsIsUndecodableNamingKAndCount() {
    UndecodableBlockException e =
        assertThrows(UndecodableBlockException.class, () -> DecodingPlan.build(100, new int[] {1, 2, 3}));
    assertEquals(100, e.sourceSymbols());
    assertEquals(3, e.receivedSymbols());
    assertTrue(e.getMessage().contains("K=100") && e.getMessage().contains("only 3"), e.getMessage());
    // 99 distinct + duplicates: still 99
    int[] esis = new int[120];
    for (int q = 0; q < esis.length; q++) {
      esis[q] = q % 99;
    }
    UndecodableBlockException e2 =
        assertThrows(UndecodableBlockException.class, () -> DecodingPlan.build(100, esis));
    assertEquals(99, e2.receivedSymbols());
  }

  @Test
  void duplicateEsisAreIgnored(BufferAllocator alloc) {
    int k = 20;
    int t = 16;
    int[] esis = {25, 3, 3, 21, 22, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 25, 23, 24, 26};
    DecodingPlan dp = DecodingPlan.build(k, esis);
    int[] uniq = dp.esis();
    assertEquals(esis.length - 2, uniq.length, "duplicates dropped");
    assertEquals(25, uniq[0]);
    assertEquals(3, uniq[1]);
    assertEquals(21, uniq[2]);
    byte[] data = SplitMix64.bytes(99, k * t);
    try (ArrowBuf src = alloc.buffer((long) k * t);
        ArrowBuf in = alloc.buffer((long) uniq.length * t);
        ArrowBuf out = alloc.buffer((long) k * t)) {
      src.setBytes(0, data);
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, EncodingPlan.forSourceSymbols(k), t, src, 0)) {
        for (int q = 0; q < uniq.length; q++) {
          enc.encodeSymbol(uniq[q], in, (long) q * t);
        }
      }
      SourceBlockDecoder.decode(alloc, dp, t, in, 0, out, 0);
      byte[] got = new byte[k * t];
      out.getBytes(0, got, 0, got.length);
      assertArrayEquals(data, got);
    }
  }

  @Test
  void badArguments(BufferAllocator alloc) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> EncodingPlan.forSourceSymbols(0));
    assertTrue(e.getMessage().contains("= 0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> EncodingPlan.forSourceSymbols(56404));
    assertThrows(IllegalArgumentException.class, () -> DecodingPlan.build(0, new int[] {0}));
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
        () -> DecodingPlan.build(10, new int[] {0, 1, 1 << 24}));
    assertTrue(e2.getMessage().contains("ESI = 16777216"), e2.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DecodingPlan.build(10, new int[] {-1}));
    EncodingPlan plan = EncodingPlan.forSourceSymbols(10);
    try (ArrowBuf src = alloc.buffer(10 * 8)) {
      assertThrows(IllegalArgumentException.class,
          () -> SourceBlockEncoder.create(alloc, plan, 0, src, 0));
      IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
          () -> SourceBlockEncoder.create(alloc, plan, (int) src.capacity(), src, 0));
      assertTrue(e3.getMessage().contains("outside the buffer"), e3.getMessage());
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, 8, src, 0);
          ArrowBuf dst = alloc.buffer(8)) {
        assertThrows(IllegalArgumentException.class, () -> enc.encodeSymbol(1 << 24, dst, 0));
        assertThrows(IllegalArgumentException.class, () -> enc.encodeSymbol(-1, dst, 0));
        assertThrows(IllegalArgumentException.class, () -> enc.encodeSymbol(3, dst, dst.capacity() - 7));
      }
    }
  }

  @Test
  void useAfterCloseFails(BufferAllocator alloc) {
    EncodingPlan plan = EncodingPlan.forSourceSymbols(5);
    try (ArrowBuf src = alloc.buffer(5 * 4);
        ArrowBuf dst = alloc.buffer(4)) {
      SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, 4, src, 0);
      enc.close();
      enc.close(); // idempotent
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> enc.encodeSymbol(0, dst, 0));
      assertEquals("closed", e.getMessage());
    }
  }
}
