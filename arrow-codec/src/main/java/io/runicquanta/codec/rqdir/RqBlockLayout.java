package io.runicquanta.codec.rqdir;

import io.runicquanta.codec.Oti;
import java.util.List;

/**
 * One block of an RQ library layout: a slice of the original file encoded as its own RFC 6330
 * object, stored in the directory {@code block_<blockId>}. Immutable.
 *
 * @param blockId the block's number (its directory is {@code block_<blockId>})
 * @param oti the block's OTI ({@code encoder_parameters}); its F equals {@code size}
 * @param originalOffset where the block starts in the original file, bytes
 * @param size the block's length, bytes
 * @param symbols symbol file names in ESI order (per source block in SBN order: source, then repair)
 * @param hash base58 BLAKE3-256 of the block's original bytes, or null if the layout has none
 */
public record RqBlockLayout(
    long blockId, Oti oti, long originalOffset, long size, List<String> symbols, String hash) {

  public RqBlockLayout {
    symbols = List.copyOf(symbols);
  }

  /** The directory name, {@code block_<blockId>}. */
  public String directoryName() {
    return "block_" + blockId;
  }
}
