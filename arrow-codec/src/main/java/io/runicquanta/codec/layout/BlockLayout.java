package io.runicquanta.codec.layout;

import java.util.List;
import java.util.Objects;

/**
 * One source block of an object and the shards holding its encoding symbols.
 *
 * @param id SBN, 0 to 255 (RFC 6330 section 3.3.3: Z is 8 bits)
 * @param offset byte offset of the block's first byte in the object, at least 0
 * @param size bytes of the object in this block, at least 1 (the last block may be padded to K*T
 *     symbols; the padding is not counted here)
 * @param k number of source symbols K, 1 to 56403 (RFC 6330 section 5.1.2 K'max)
 * @param shards the block's shards, at least one, in ESI order; the list is copied and immutable
 */
public record BlockLayout(int id, long offset, long size, int k, List<ShardLayout> shards) {

  /** Largest number of source symbols in a block (RFC 6330 table 2, K'max). */
  public static final int MAX_K = 56403;

  /**
   * Checks the fields and copies the shard list.
   *
   * @throws IllegalArgumentException naming the field, its value and the expected range
   * @throws NullPointerException if {@code shards} or one of its elements is null
   */
  public BlockLayout {
    if (id < 0 || id > 255) {
      throw new IllegalArgumentException("block id = " + id + ", expected 0..255");
    }
    if (offset < 0) {
      throw new IllegalArgumentException("block " + id + ": offset = " + offset + ", expected >= 0");
    }
    if (size < 1) {
      throw new IllegalArgumentException("block " + id + ": size = " + size + ", expected >= 1");
    }
    if (k < 1 || k > MAX_K) {
      throw new IllegalArgumentException("block " + id + ": K = " + k + ", expected 1.." + MAX_K);
    }
    shards = List.copyOf(Objects.requireNonNull(shards, "shards"));
    if (shards.isEmpty()) {
      throw new IllegalArgumentException("block " + id + ": no shards, expected at least 1");
    }
  }

  /** @return the total number of encoding symbols over all shards of this block */
  public long symbolCount() {
    long n = 0;
    for (ShardLayout s : shards) {
      n += s.esiCount();
    }
    return n;
  }
}
