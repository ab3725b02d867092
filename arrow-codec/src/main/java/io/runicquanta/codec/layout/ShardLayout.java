package io.runicquanta.codec.layout;

import java.util.Objects;

/**
 * One shard: the symbols of one block kept on one node, as one contiguous region of a segment.
 *
 * <h2>Region format</h2>
 *
 * A region of {@link #length()} bytes starting at {@link #offset()} holds a {@link #HEADER_BYTES}
 * byte header followed by {@link #esiCount()} encoding symbols of T bytes each (T from the object's
 * OTI), ESIs {@link #firstEsi()} to {@code firstEsi + esiCount - 1} in that order. So {@code length
 * = HEADER_BYTES + esiCount * T}. The header is written by the storing node and lets a reader reject
 * a region that does not hold what the layout says (stale or reused space). Its format, all
 * integers little-endian:
 *
 * <pre>
 *   0..3    magic 'R','Q','S','H'
 *   4       format version, 1
 *   5..7    reserved, 0
 *   8..11   SBN (block id)
 *   12..15  first ESI
 *   16..19  ESI count
 *   20..23  T, bytes
 *   24..27  CRC32C of the symbol bytes (the same value as {@link #crc32c()})
 *   28..31  CRC32C of bytes 0..27
 * </pre>
 *
 * @param segment name of the segment holding the region, non-empty
 * @param offset byte offset of the region in the segment, at least 0
 * @param length region length in bytes, header included, at least {@link #HEADER_BYTES}
 * @param firstEsi ESI of the first symbol, 0 to 2^24 - 1 (RFC 6330 section 3.2: ESIs are 24 bits)
 * @param esiCount number of symbols, at least 1, and {@code firstEsi + esiCount <= 2^24}
 * @param crc32c CRC32C of the symbol bytes (header excluded) as an unsigned 32-bit value held in an
 *     int; 0 while the object is not yet complete
 */
public record ShardLayout(
    String segment, long offset, long length, int firstEsi, int esiCount, int crc32c) {

  /** Bytes of the header in front of the symbols of every shard region. */
  public static final int HEADER_BYTES = 32;

  /** One more than the largest ESI (RFC 6330 section 3.2, 24-bit ESIs). */
  public static final int ESI_LIMIT = 1 << 24;

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException naming the field, its value and the expected range
   * @throws NullPointerException if {@code segment} is null
   */
  public ShardLayout {
    Objects.requireNonNull(segment, "segment");
    if (segment.isEmpty()) {
      throw new IllegalArgumentException("segment name is empty; expected a mounted segment name");
    }
    if (offset < 0) {
      throw new IllegalArgumentException("offset = " + offset + ", expected >= 0");
    }
    if (length < HEADER_BYTES) {
      throw new IllegalArgumentException(
          "length = " + length + ", expected >= " + HEADER_BYTES + " (header bytes)");
    }
    if (firstEsi < 0 || firstEsi >= ESI_LIMIT) {
      throw new IllegalArgumentException(
          "firstEsi = " + firstEsi + ", expected 0.." + (ESI_LIMIT - 1));
    }
    if (esiCount < 1 || (long) firstEsi + esiCount > ESI_LIMIT) {
      throw new IllegalArgumentException(
          "esiCount = " + esiCount + " with firstEsi = " + firstEsi + ", expected 1.."
              + (ESI_LIMIT - firstEsi));
    }
  }

  /**
   * The ESIs of this shard's symbols, in region order.
   *
   * @return a new array {@code firstEsi, firstEsi + 1, ...} of {@link #esiCount()} elements
   */
  public int[] esis() {
    int[] out = new int[esiCount];
    for (int i = 0; i < esiCount; i++) {
      out[i] = firstEsi + i;
    }
    return out;
  }

  /**
   * Returns a copy carrying the given checksum.
   *
   * @param crc CRC32C of the symbol bytes, unsigned 32-bit value in an int
   * @return a shard equal to this one except for {@link #crc32c()}
   */
  public ShardLayout withCrc32c(int crc) {
    return new ShardLayout(segment, offset, length, firstEsi, esiCount, crc);
  }

  /** @return the last byte offset of the region plus one */
  public long end() {
    return offset + length;
  }
}
