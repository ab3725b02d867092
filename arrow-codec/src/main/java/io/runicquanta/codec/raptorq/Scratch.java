package io.runicquanta.codec.raptorq;

import java.lang.ref.SoftReference;
import java.util.Arrays;

/**
 * A small per-thread pool of temporary arrays for {@link PlanBuilder}: building a plan needs a
 * dozen arrays proportional to K (row lists, column lists, degree buckets, the bit rows of the
 * Schur complement, the recorded operations), and allocating them afresh for every plan cost more
 * than the elimination itself for K near 1000 (large ones are humongous objects in G1, zeroed and
 * collected every time). Arrays here are handed out by slot number, grow on demand and are only
 * ever used by one builder at a time on their thread; nothing handed out may escape into a plan.
 * The pool is held through a {@link SoftReference}, so a heap under pressure can take it back.
 */
final class Scratch {
  private static final ThreadLocal<SoftReference<Scratch>> POOL = new ThreadLocal<>();

  /** Arrays of more elements than this are not kept after use (allocated, then dropped). */
  private static final int MAX_KEEP = 1 << 22;

  private final int[][] ints = new int[30][];
  private final long[][] longs = new long[4][];
  private final boolean[][] bools = new boolean[6][];

  private Scratch() {}

  /** This thread's pool. */
  static Scratch get() {
    SoftReference<Scratch> ref = POOL.get();
    Scratch s = ref == null ? null : ref.get();
    if (s == null) {
      s = new Scratch();
      POOL.set(new SoftReference<>(s));
    }
    return s;
  }

  /** An int array of at least n elements, the first n zero. */
  int[] ints(int slot, int n) {
    int[] a = intsRaw(slot, n);
    Arrays.fill(a, 0, n, 0);
    return a;
  }

  /** An int array of at least n elements, contents undefined. */
  int[] intsRaw(int slot, int n) {
    int[] a = ints[slot];
    if (a == null || a.length < n) {
      a = new int[Math.max(n, 64)];
      if (n <= MAX_KEEP) {
        ints[slot] = a;
      }
    }
    return a;
  }

  /** A long array of at least n elements, the first n zero. */
  long[] longs(int slot, int n) {
    long[] a = longsRaw(slot, n);
    Arrays.fill(a, 0, n, 0L);
    return a;
  }

  /** A long array of at least n elements, contents undefined. */
  long[] longsRaw(int slot, int n) {
    long[] a = longs[slot];
    if (a == null || a.length < n) {
      a = new long[Math.max(n, 64)];
      if (n <= MAX_KEEP) {
        longs[slot] = a;
      }
    }
    return a;
  }

  /** Gives back a long array that grew while in use, so the next plan starts with its size. */
  void keepLongs(int slot, long[] a) {
    if (a.length <= MAX_KEEP && (longs[slot] == null || longs[slot].length < a.length)) {
      longs[slot] = a;
    }
  }

  /** Gives back an int array that grew while in use, so the next plan starts with its size. */
  void keepInts(int slot, int[] a) {
    if (a.length <= MAX_KEEP && (ints[slot] == null || ints[slot].length < a.length)) {
      ints[slot] = a;
    }
  }

  /** A boolean array of at least n elements, the first n false. */
  boolean[] bools(int slot, int n) {
    boolean[] a = bools[slot];
    if (a == null || a.length < n) {
      a = new boolean[Math.max(n, 64)];
      if (n <= MAX_KEEP) {
        bools[slot] = a;
      }
      return a;
    }
    Arrays.fill(a, 0, n, false);
    return a;
  }
}
