package io.runicquanta.codec.raptorq;

/**
 * The schedule of symbol operations that recovers the K source symbols of a block from a given list
 * of received ESIs (RFC 6330 section 5.4, inactivation decoding). It depends only on K and the ESI
 * list, so one plan serves every sub-block of a block. Immutable and thread safe.
 */
public final class DecodingPlan {
  private DecodingPlan() {}

  /**
   * Builds the plan.
   *
   * @param sourceSymbols K of the block
   * @param esis the received ESIs, in the order their symbols will be given to the decoder (source
   *     ESIs below K, repair ESIs K to 2^24-1); duplicates are ignored
   * @throws io.runicquanta.codec.UndecodableBlockException if these symbols do not determine the
   *     block (rank deficient), naming K and how many symbols it had
   * @throws IllegalArgumentException for K or an ESI out of range
   */
  public static DecodingPlan build(int sourceSymbols, int[] esis) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** K. */
  public int sourceSymbols() {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** The ESIs this plan reads, in the order the received symbols must be laid out (a copy). */
  public int[] esis() {
    throw new UnsupportedOperationException("not implemented yet");
  }
}
