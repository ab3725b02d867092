package io.runicquanta.codec.layout;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Where a stored object lives: its key, size, the 12-byte RFC 6330 OTI (section 3.3) that says how
 * it was cut, the loss tolerance m it was placed for, and per source block the shards holding its
 * symbols. Immutable (the OTI array is copied in and out) and thread safe.
 *
 * @param key the object's key, a non-empty string of at most {@link #MAX_KEY_BYTES} UTF-8 bytes
 * @param size object size F in bytes, at least 1
 * @param oti the encoded OTI, exactly {@link #OTI_BYTES} bytes (copied)
 * @param lossTolerance m: the number of node (or failure domain) losses every block survives, >= 0
 * @param blocks the source blocks in SBN order, at least one; copied and immutable
 */
public record ObjectLayout(
    String key, long size, byte[] oti, int lossTolerance, List<BlockLayout> blocks) {

  /** Encoded OTI length (RFC 6330 section 3.3: 8 common + 4 scheme-specific octets). */
  public static final int OTI_BYTES = 12;

  /** Longest key, in UTF-8 bytes. */
  public static final int MAX_KEY_BYTES = 1024;

  /**
   * Checks the fields and copies the OTI and the block list.
   *
   * @throws IllegalArgumentException naming the field, its value and the expected range
   * @throws NullPointerException if a reference argument is null
   */
  public ObjectLayout {
    Objects.requireNonNull(key, "key");
    int keyBytes = key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (keyBytes == 0 || keyBytes > MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "key is " + keyBytes + " UTF-8 bytes, expected 1.." + MAX_KEY_BYTES);
    }
    if (size < 1) {
      throw new IllegalArgumentException("object '" + key + "': size = " + size + ", expected >= 1");
    }
    Objects.requireNonNull(oti, "oti");
    if (oti.length != OTI_BYTES) {
      throw new IllegalArgumentException(
          "object '" + key + "': OTI is " + oti.length + " bytes, expected " + OTI_BYTES);
    }
    oti = oti.clone();
    if (lossTolerance < 0) {
      throw new IllegalArgumentException(
          "object '" + key + "': loss tolerance = " + lossTolerance + ", expected >= 0");
    }
    blocks = List.copyOf(Objects.requireNonNull(blocks, "blocks"));
    if (blocks.isEmpty()) {
      throw new IllegalArgumentException("object '" + key + "': no blocks, expected at least 1");
    }
  }

  /** @return a copy of the 12-byte encoded OTI */
  @Override
  public byte[] oti() {
    return oti.clone();
  }

  /** @return the symbol size T in bytes, read from OTI octets 6..7 (RFC 6330 section 3.3.2) */
  public int symbolSize() {
    return ((oti[6] & 0xFF) << 8) | (oti[7] & 0xFF);
  }

  /** @return the number of shards over all blocks */
  public int shardCount() {
    int n = 0;
    for (BlockLayout b : blocks) {
      n += b.shards().size();
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectLayout other
        && key.equals(other.key)
        && size == other.size
        && Arrays.equals(oti, other.oti)
        && lossTolerance == other.lossTolerance
        && blocks.equals(other.blocks);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, size, Arrays.hashCode(oti), lossTolerance, blocks);
  }

  @Override
  public String toString() {
    return "ObjectLayout[key=" + key + ", size=" + size + ", oti=" + Arrays.toString(oti)
        + ", lossTolerance=" + lossTolerance + ", blocks=" + blocks + "]";
  }
}
