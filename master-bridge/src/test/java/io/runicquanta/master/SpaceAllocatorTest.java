package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpaceAllocatorTest {

  @Test
  void freedNeighboursMergeIntoOneRange() {
    SpaceAllocator a = new SpaceAllocator(1024, 64);
    long x = a.allocate(100);
    long y = a.allocate(64);
    long z = a.allocate(200);
    assertEquals(0, x);
    assertEquals(128, y);
    assertEquals(192, z);
    a.free(x, 100);
    a.free(z, 200);
    assertEquals(2, a.freeRanges().length, "x's range and z+tail are separate while y is live");
    a.free(y, 64);
    assertEquals(1, a.freeRanges().length);
    assertEquals(1024, a.largestFree());
    a.checkInvariants();
  }

  @Test
  void bestFitKeepsLargeRangesWhole() {
    SpaceAllocator a = new SpaceAllocator(4096, 64);
    long small = a.allocate(64);
    long sep = a.allocate(64);
    a.allocate(64);
    a.free(small, 64);
    // free: [0,64) and [192,4096); a 64-byte request must take the hole, not split the big range
    assertEquals(0, a.allocate(64));
    assertEquals(64, sep);
    a.checkInvariants();
  }

  @Test
  void exhaustionReturnsMinusOne() {
    SpaceAllocator a = new SpaceAllocator(256, 64);
    assertEquals(0, a.allocate(256));
    assertEquals(-1, a.allocate(1));
    a.checkInvariants();
  }

  @Test
  void badFreesAndReservesAreRejected() {
    SpaceAllocator a = new SpaceAllocator(1024, 64);
    long x = a.allocate(64);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.free(64, 64));
    assertTrue(e.getMessage().contains("no live range"), e.getMessage());
    a.free(x, 64);
    assertThrows(IllegalArgumentException.class, () -> a.free(x, 64), "double free");
    a.reserve(128, 100);
    assertThrows(IllegalStateException.class, () -> a.reserve(192, 64), "overlapping reserve");
    assertThrows(IllegalArgumentException.class, () -> a.reserve(10, 64), "unaligned reserve");
    assertThrows(IllegalArgumentException.class, () -> a.allocate(0));
    assertThrows(IllegalArgumentException.class, () -> new SpaceAllocator(1024, 48));
    a.checkInvariants();
  }

  /**
   * Property: under random allocate/free/reserve sequences, live ranges never overlap, stay inside
   * the segment, free ranges are merged, and freeing everything gives back one whole range.
   */
  @ParameterizedTest
  @ValueSource(longs = {1L, 42L, 0x5EEDL, 20261122L})
  void randomSequencesKeepInvariants(long seed) {
    SplitMix64 rnd = new SplitMix64(seed);
    long capacity = 1 << 20;
    SpaceAllocator a = new SpaceAllocator(capacity, 64);
    List<long[]> held = new ArrayList<>();
    int steps = 20_000;
    for (int i = 0; i < steps; i++) {
      long r = Math.floorMod(rnd.nextLong(), 100);
      if (r < 55 || held.isEmpty()) {
        long len = 1 + Math.floorMod(rnd.nextLong(), r < 5 ? 200_000 : 8_000);
        long off = a.allocate(len);
        if (off >= 0) {
          assertTrue(off + a.footprint(len) <= a.capacity(), "seed " + seed + ": out of bounds");
          held.add(new long[] {off, len});
        } else {
          assertTrue(a.largestFree() < a.footprint(len), "seed " + seed + ": refused but fits");
        }
      } else {
        int idx = (int) Math.floorMod(rnd.nextLong(), held.size());
        long[] h = held.remove(idx);
        a.free(h[0], h[1]);
      }
      if (i % 97 == 0) {
        a.checkInvariants();
        assertNoOverlap(held, a, seed);
      }
    }
    a.checkInvariants();
    assertNoOverlap(held, a, seed);
    // rebuild a second allocator from the held ranges via reserve: same free bytes
    SpaceAllocator b = new SpaceAllocator(capacity, 64);
    for (long[] h : held) {
      b.reserve(h[0], h[1]);
    }
    b.checkInvariants();
    assertEquals(a.freeBytes(), b.freeBytes(), "seed " + seed);
    for (long[] h : held) {
      a.free(h[0], h[1]);
    }
    a.checkInvariants();
    assertEquals(1, a.freeRanges().length, "seed " + seed + ": free space not merged");
    assertEquals(capacity, a.freeBytes());
  }

  private static void assertNoOverlap(List<long[]> held, SpaceAllocator a, long seed) {
    List<long[]> sorted = new ArrayList<>(held);
    sorted.sort((x, y) -> Long.compare(x[0], y[0]));
    long prevEnd = 0;
    for (long[] h : sorted) {
      assertTrue(h[0] >= prevEnd, "seed " + seed + ": ranges overlap at " + h[0]);
      prevEnd = h[0] + a.footprint(h[1]);
    }
    assertEquals(held.size(), a.liveCount());
  }
}
