package io.runicquanta.codec;

/**
 * The FEC Payload ID of an encoding symbol (RFC 6330 section 3.2): the source block number SBN (8
 * bits) and the encoding symbol id ESI (24 bits), sent as 4 big-endian octets in front of the
 * symbol. Immutable.
 *
 * @param sourceBlockNumber SBN, 0 to 255
 * @param encodingSymbolId ESI, 0 to 2^24-1 (below K: source symbols; K and above: repair symbols)
 */
public record PayloadId(int sourceBlockNumber, int encodingSymbolId) {
  /** Encoded size in bytes. */
  public static final int BYTES = 4;

  /** Largest ESI: 2^24 - 1. */
  public static final int MAX_ESI = (1 << 24) - 1;

  /**
   * @throws IllegalArgumentException if SBN is not in 0..255 or ESI not in 0..2^24-1
   */
  public PayloadId {
    if (sourceBlockNumber < 0 || sourceBlockNumber > 255) {
      throw new IllegalArgumentException("SBN = " + sourceBlockNumber + ", expected 0..255");
    }
    if (encodingSymbolId < 0 || encodingSymbolId > MAX_ESI) {
      throw new IllegalArgumentException("ESI = " + encodingSymbolId + ", expected 0.." + MAX_ESI);
    }
  }

  /** The 4 octets as a big-endian int: SBN in the top 8 bits, ESI in the low 24. */
  public int toInt() {
    return (sourceBlockNumber << 24) | encodingSymbolId;
  }

  /** The inverse of {@link #toInt()}; every int is a valid payload id. */
  public static PayloadId fromInt(int value) {
    return new PayloadId(value >>> 24, value & MAX_ESI);
  }

  /** Writes the 4 octets to {@code dst} at {@code offset}. */
  public void writeTo(byte[] dst, int offset) {
    int v = toInt();
    dst[offset] = (byte) (v >>> 24);
    dst[offset + 1] = (byte) (v >>> 16);
    dst[offset + 2] = (byte) (v >>> 8);
    dst[offset + 3] = (byte) v;
  }

  /**
   * Reads 4 octets from {@code src} at {@code offset}.
   *
   * @throws IndexOutOfBoundsException if fewer than 4 bytes are there
   */
  public static PayloadId readFrom(byte[] src, int offset) {
    if (offset < 0 || offset + BYTES > src.length) {
      throw new IndexOutOfBoundsException(
          "payload id at " + offset + " needs 4 bytes, array has " + src.length);
    }
    return fromInt(
        ((src[offset] & 0xFF) << 24)
            | ((src[offset + 1] & 0xFF) << 16)
            | ((src[offset + 2] & 0xFF) << 8)
            | (src[offset + 3] & 0xFF));
  }

  @Override
  public String toString() {
    return "(SBN " + sourceBlockNumber + ", ESI " + encodingSymbolId + ")";
  }
}
