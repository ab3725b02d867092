package io.runicquanta.codec.raptorq;

/**
 * The schedule of symbol operations that turns the K source symbols of a block (padded to K') into
 * its L intermediate symbols (RFC 6330 section 5.3.3.4). It depends only on K, not on the symbol
 * size or data, so one plan serves every sub-block of a block and every block with the same K.
 * Immutable and thread safe.
 */
public final class EncodingPlan {
  private EncodingPlan() {}

  /**
   * Builds the plan for K source symbols.
   *
   * @param sourceSymbols K, 1 to 56403
   * @throws IllegalArgumentException if K is out of range
   */
  public static EncodingPlan forSourceSymbols(int sourceSymbols) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** K. */
  public int sourceSymbols() {
    throw new UnsupportedOperationException("not implemented yet");
  }
}
