package io.runicquanta.master;

import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The free space of one segment: hands out byte ranges (offset, length) that never overlap, and
 * merges a freed range with its free neighbours.
 *
 * <h2>Design</h2>
 *
 * Lengths are rounded up to the allocator's alignment, and every offset is a multiple of it, so the
 * segment is a sequence of alignment units. Free space is kept twice: {@code freeByOffset} (offset
 * to length, for merging with neighbours on free) and {@code freeBySize} (ordered by length then
 * offset, for best fit: the smallest free range that is large enough, lowest offset on ties, which
 * keeps big ranges whole). Live allocations are kept by offset so that a free of a range that was
 * never handed out, or a second free, is rejected instead of corrupting the free lists. Invariants,
 * checked by {@link #checkInvariants()}: free ranges are disjoint, never adjacent (merged), disjoint
 * from live ranges, and free plus live bytes equal the capacity.
 *
 * <p>Not thread safe: the master calls it under its placement lock.
 */
final class SpaceAllocator {
  private static final Comparator<long[]> BY_SIZE =
      Comparator.<long[]>comparingLong(r -> r[1]).thenComparingLong(r -> r[0]);

  private final long capacity;
  private final long alignment;
  private final NavigableMap<Long, Long> freeByOffset = new TreeMap<>();
  private final TreeSet<long[]> freeBySize = new TreeSet<>(BY_SIZE);
  private final NavigableMap<Long, Long> live = new TreeMap<>();
  private long freeBytes;

  /**
   * Creates an allocator whose whole range {@code [0, capacity)} is free.
   *
   * @param capacity segment size in bytes, at least {@code alignment}; rounded down to a multiple
   *     of it
   * @param alignment offset and length granularity in bytes, a power of two
   * @throws IllegalArgumentException for a non-positive or non-power-of-two alignment or a capacity
   *     below it
   */
  SpaceAllocator(long capacity, long alignment) {
    if (alignment < 1 || Long.bitCount(alignment) != 1) {
      throw new IllegalArgumentException("alignment = " + alignment + ", expected a power of two");
    }
    if (capacity < alignment) {
      throw new IllegalArgumentException(
          "capacity = " + capacity + " bytes, expected >= alignment " + alignment);
    }
    this.alignment = alignment;
    this.capacity = capacity - capacity % alignment;
    addFree(0, this.capacity);
    this.freeBytes = this.capacity;
  }

  /** @return usable bytes (the constructor's capacity rounded down to the alignment) */
  long capacity() {
    return capacity;
  }

  /** @return free bytes, in aligned units */
  long freeBytes() {
    return freeBytes;
  }

  /** @return number of live allocations */
  int liveCount() {
    return live.size();
  }

  /** @return the length of the largest free range, 0 when full */
  long largestFree() {
    return freeBySize.isEmpty() ? 0 : freeBySize.last()[1];
  }

  /**
   * Rounds a length up to the alignment.
   *
   * @param length bytes, at least 1
   * @return the number of bytes an allocation of {@code length} takes
   */
  long footprint(long length) {
    return (length + alignment - 1) & -alignment;
  }

  /**
   * Allocates a range of at least {@code length} bytes (best fit).
   *
   * @param length bytes wanted, at least 1
   * @return the offset of the range, or -1 if no free range is large enough
   * @throws IllegalArgumentException if {@code length < 1}
   */
  long allocate(long length) {
    if (length < 1) {
      throw new IllegalArgumentException("length = " + length + ", expected >= 1");
    }
    long need = footprint(length);
    long[] fit = freeBySize.ceiling(new long[] {-1, need});
    if (fit == null) {
      return -1;
    }
    removeFree(fit[0], fit[1]);
    if (fit[1] > need) {
      addFree(fit[0] + need, fit[1] - need);
    }
    live.put(fit[0], need);
    freeBytes -= need;
    return fit[0];
  }

  /**
   * Marks a given range as allocated (used when rebuilding from stored layouts).
   *
   * @param offset start of the range, a multiple of the alignment
   * @param length bytes, at least 1 (rounded up to the alignment)
   * @throws IllegalArgumentException if the offset is not aligned
   * @throws IllegalStateException if any byte of the range is not free
   */
  void reserve(long offset, long length) {
    if (offset < 0 || offset % alignment != 0) {
      throw new IllegalArgumentException(
          "offset = " + offset + ", expected a non-negative multiple of " + alignment);
    }
    long need = footprint(length);
    Map.Entry<Long, Long> f = freeByOffset.floorEntry(offset);
    if (f == null || f.getKey() + f.getValue() < offset + need) {
      throw new IllegalStateException(
          "range [" + offset + ", " + (offset + need) + ") is not free; it overlaps a live range");
    }
    long fOff = f.getKey();
    long fLen = f.getValue();
    removeFree(fOff, fLen);
    if (offset > fOff) {
      addFree(fOff, offset - fOff);
    }
    long tail = fOff + fLen - (offset + need);
    if (tail > 0) {
      addFree(offset + need, tail);
    }
    live.put(offset, need);
    freeBytes -= need;
  }

  /**
   * Frees a range handed out by {@link #allocate} or {@link #reserve}, merging it with free
   * neighbours.
   *
   * @param offset the range's offset
   * @param length the length asked for when it was allocated
   * @throws IllegalArgumentException if no live range starts at {@code offset} with that footprint
   */
  void free(long offset, long length) {
    long need = footprint(length);
    Long liveLen = live.get(offset);
    if (liveLen == null || liveLen != need) {
      throw new IllegalArgumentException(
          "free of [" + offset + ", +" + length + "): no live range of " + need
              + " bytes starts there" + (liveLen == null ? "" : " (live length " + liveLen + ")"));
    }
    live.remove(offset);
    freeBytes += need;
    long start = offset;
    long end = offset + need;
    Map.Entry<Long, Long> before = freeByOffset.lowerEntry(offset);
    if (before != null && before.getKey() + before.getValue() == start) {
      start = before.getKey();
      removeFree(before.getKey(), before.getValue());
    }
    Long afterLen = freeByOffset.get(end);
    if (afterLen != null) {
      removeFree(end, afterLen);
      end += afterLen;
    }
    addFree(start, end - start);
  }

  /**
   * Checks the invariants listed in the class comment.
   *
   * @throws IllegalStateException describing the first broken invariant
   */
  void checkInvariants() {
    long prevEnd = -1;
    long sum = 0;
    for (Map.Entry<Long, Long> e : freeByOffset.entrySet()) {
      long off = e.getKey();
      long len = e.getValue();
      if (len <= 0 || off < 0 || off + len > capacity) {
        throw new IllegalStateException("free range [" + off + ", +" + len + ") out of bounds");
      }
      if (off <= prevEnd) {
        throw new IllegalStateException(
            "free range at " + off + (off == prevEnd ? " is adjacent to" : " overlaps")
                + " the previous one ending at " + prevEnd);
      }
      Map.Entry<Long, Long> l = live.floorEntry(off + len - 1);
      if (l != null && l.getKey() + l.getValue() > off) {
        throw new IllegalStateException(
            "free range [" + off + ", +" + len + ") overlaps live range at " + l.getKey());
      }
      prevEnd = off + len;
      sum += len;
    }
    if (freeBySize.size() != freeByOffset.size()) {
      throw new IllegalStateException(
          "size index has " + freeBySize.size() + " ranges, offset index " + freeByOffset.size());
    }
    long liveSum = 0;
    long liveEnd = -1;
    for (Map.Entry<Long, Long> e : live.entrySet()) {
      if (e.getKey() < liveEnd) {
        throw new IllegalStateException("live range at " + e.getKey() + " overlaps its predecessor");
      }
      liveEnd = e.getKey() + e.getValue();
      liveSum += e.getValue();
    }
    if (sum != freeBytes || sum + liveSum != capacity) {
      throw new IllegalStateException(
          "free " + sum + " (counted " + freeBytes + ") + live " + liveSum + " != capacity "
              + capacity);
    }
  }

  /** @return the live ranges as {offset, footprint} pairs in offset order (a copy) */
  long[][] liveRanges() {
    long[][] out = new long[live.size()][];
    Iterator<Map.Entry<Long, Long>> it = live.entrySet().iterator();
    for (int i = 0; it.hasNext(); i++) {
      Map.Entry<Long, Long> e = it.next();
      out[i] = new long[] {e.getKey(), e.getValue()};
    }
    return out;
  }

  /** @return the free ranges as {offset, length} pairs in offset order (a copy) */
  long[][] freeRanges() {
    long[][] out = new long[freeByOffset.size()][];
    int i = 0;
    for (Map.Entry<Long, Long> e : freeByOffset.entrySet()) {
      out[i++] = new long[] {e.getKey(), e.getValue()};
    }
    return out;
  }

  private void addFree(long off, long len) {
    freeByOffset.put(off, len);
    freeBySize.add(new long[] {off, len});
  }

  private void removeFree(long off, long len) {
    freeByOffset.remove(off);
    freeBySize.remove(new long[] {off, len});
  }
}
