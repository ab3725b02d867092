package io.runicquanta.codec;

import java.util.Arrays;

/**
 * The FEC Object Transmission Information of an RFC 6330 object: transfer length F, symbol size T,
 * number of source blocks Z, number of sub-blocks N and symbol alignment Al, with its 12-octet
 * encoding (section 3.3.2 common part, section 3.3.3 scheme-specific part) and the partitions it
 * implies (section 4.4.1.2). Immutable and thread safe.
 *
 * <h2>Encoding (RFC 6330 sections 3.3.2 and 3.3.3)</h2>
 *
 * <pre>
 *   octets 0..4   F   40-bit unsigned, at most 946270874880
 *   octet  5      reserved, 0
 *   octets 6..7   T   16-bit unsigned, positive
 *   octet  8      Z   8-bit unsigned, positive
 *   octets 9..10  N   16-bit unsigned, positive, at most T/Al
 *   octet  11     Al  8-bit unsigned, positive, divides T
 * </pre>
 *
 * <h2>Partitions (section 4.4.1.2)</h2>
 *
 * Kt = ceil(F/T) source symbols are split by Partition[Kt, Z] into ZL blocks of KL symbols followed
 * by ZS blocks of KS symbols; every block is cut by Partition[T/Al, N] into NL sub-blocks whose
 * sub-symbols are TL*Al bytes followed by NS sub-blocks of TS*Al bytes. A sub-block of a block of K
 * symbols is K contiguous sub-symbols of the block; encoding symbol j of the block is the
 * concatenation over the sub-blocks n of sub-symbol j of sub-block n.
 *
 * <h2>Choosing parameters (section 4.3)</h2>
 *
 * {@link #forObject} derives T, Z and N from F, the maximum payload size P', Al, the smallest
 * sub-symbol size SS (in units of Al) and the decoder working memory WS, exactly as the Rust
 * {@code raptorq} crate does; {@link #forRqLibrary} applies the RQ library's choices of Al, SS and
 * WS.
 */
public final class Oti {
  /** Encoded size: 12 octets. */
  public static final int BYTES = 12;

  /** Largest transfer length F allowed by RFC 6330 section 3.3.2. */
  public static final long MAX_TRANSFER_LENGTH = 946_270_874_880L;

  /** The RQ library's (and the {@code raptorq} crate's) decoder working memory WS: 10 MiB. */
  public static final long RQ_LIBRARY_WORKING_MEMORY = 10L * 1024 * 1024;

  private final long transferLength;
  private final int symbolSize;
  private final int sourceBlockCount;
  private final int subBlockCount;
  private final int alignment;
  private final long totalSourceSymbols;
  private final Partition blocks;
  private final Partition subBlocks;

  private Oti(long f, int t, int z, int n, int al) {
    this.transferLength = f;
    this.symbolSize = t;
    this.sourceBlockCount = z;
    this.subBlockCount = n;
    this.alignment = al;
    this.totalSourceSymbols = (f + t - 1) / t;
    this.blocks = Partition.of(totalSourceSymbols, z);
    this.subBlocks = Partition.of(t / al, n);
  }

  /**
   * Checks and builds an OTI from its five fields.
   *
   * @param transferLength F, bytes, 0 to 946270874880
   * @param symbolSize T, bytes, 1 to 65535, a multiple of Al
   * @param sourceBlocks Z, 1 to 255; with F above 0 also at most Kt = ceil(F/T), and each block at
   *     most 56403 symbols
   * @param subBlocks N, 1 to T/Al
   * @param alignment Al, 1 to 255
   * @throws InvalidOtiException naming the first field out of range, its value and the allowed range
   */
  public static Oti of(long transferLength, int symbolSize, int sourceBlocks, int subBlocks, int alignment) {
    if (transferLength < 0 || transferLength > MAX_TRANSFER_LENGTH) {
      throw new InvalidOtiException(
          "F", "F (transfer length) = " + transferLength + ", expected 0.." + MAX_TRANSFER_LENGTH);
    }
    if (symbolSize < 1 || symbolSize > 0xFFFF) {
      throw new InvalidOtiException("T", "T (symbol size) = " + symbolSize + ", expected 1..65535");
    }
    if (alignment < 1 || alignment > 0xFF) {
      throw new InvalidOtiException("Al", "Al (symbol alignment) = " + alignment + ", expected 1..255");
    }
    if (symbolSize % alignment != 0) {
      throw new InvalidOtiException(
          "Al",
          "Al (symbol alignment) = " + alignment + " does not divide T = " + symbolSize
              + "; expected a divisor of T");
    }
    if (sourceBlocks < 1 || sourceBlocks > 0xFF) {
      throw new InvalidOtiException(
          "Z", "Z (source blocks) = " + sourceBlocks + ", expected 1..255");
    }
    int maxN = symbolSize / alignment;
    if (subBlocks < 1 || subBlocks > maxN) {
      throw new InvalidOtiException(
          "N",
          "N (sub-blocks) = " + subBlocks + ", expected 1..T/Al = " + maxN
              + " (T = " + symbolSize + ", Al = " + alignment + ")");
    }
    if (transferLength > 0) {
      long kt = (transferLength + symbolSize - 1) / symbolSize;
      if (sourceBlocks > kt) {
        throw new InvalidOtiException(
            "Z",
            "Z (source blocks) = " + sourceBlocks + " exceeds Kt = ceil(F/T) = " + kt
                + " source symbols; expected 1.." + kt);
      }
      long kl = (kt + sourceBlocks - 1) / sourceBlocks;
      if (kl > ExtendedSourceSymbols.MAX_K) {
        throw new InvalidOtiException(
            "Z",
            "Z (source blocks) = " + sourceBlocks + " gives blocks of KL = " + kl
                + " symbols for Kt = " + kt + "; expected at most " + ExtendedSourceSymbols.MAX_K
                + " (Z >= " + ((kt + ExtendedSourceSymbols.MAX_K - 1) / ExtendedSourceSymbols.MAX_K) + ")");
      }
    }
    return new Oti(transferLength, symbolSize, sourceBlocks, subBlocks, alignment);
  }

  /**
   * Decodes the 12-octet OTI.
   *
   * @throws InvalidOtiException if the array is not 12 bytes, the reserved octet is not 0, or a
   *     field is out of range (see {@link #of})
   */
  public static Oti decode(byte[] encoded) {
    if (encoded == null || encoded.length != BYTES) {
      throw new InvalidOtiException(
          "length",
          "encoded OTI has " + (encoded == null ? "no" : Integer.toString(encoded.length))
              + " bytes, expected " + BYTES);
    }
    long f = 0;
    for (int i = 0; i < 5; i++) {
      f = (f << 8) | (encoded[i] & 0xFF);
    }
    int reserved = encoded[5] & 0xFF;
    if (reserved != 0) {
      throw new InvalidOtiException("reserved", "reserved octet 5 = " + reserved + ", expected 0");
    }
    int t = ((encoded[6] & 0xFF) << 8) | (encoded[7] & 0xFF);
    int z = encoded[8] & 0xFF;
    int n = ((encoded[9] & 0xFF) << 8) | (encoded[10] & 0xFF);
    int al = encoded[11] & 0xFF;
    return of(f, t, z, n, al);
  }

  /** The 12 octets (a fresh array). */
  public byte[] encode() {
    byte[] out = new byte[BYTES];
    for (int i = 0; i < 5; i++) {
      out[i] = (byte) (transferLength >>> (8 * (4 - i)));
    }
    out[6] = (byte) (symbolSize >>> 8);
    out[7] = (byte) symbolSize;
    out[8] = (byte) sourceBlockCount;
    out[9] = (byte) (subBlockCount >>> 8);
    out[10] = (byte) subBlockCount;
    out[11] = (byte) alignment;
    return out;
  }

  /**
   * Derives the OTI of an object as RFC 6330 section 4.3 describes: T = P' - (P' mod Al); Kt =
   * ceil(F/T); N_max = floor(T/(SS*Al)); KL(n) = the largest K' of Table 2 with K' &lt;= WS / (Al *
   * ceil(T/(Al*n))); Z = ceil(Kt/KL(N_max)); N = the smallest n in 1..N_max with ceil(Kt/Z) &lt;=
   * KL(n), else N_max.
   *
   * @param transferLength F, bytes, 1 to 946270874880
   * @param maxPayloadSize P', bytes, at least Al and at most 65535
   * @param alignment Al, 1 to 255
   * @param minSubSymbolUnits SS, the smallest sub-symbol size in units of Al, at least 1
   * @param workingMemoryBytes WS, the decoder's working memory for one sub-block, bytes
   * @throws IllegalArgumentException if an argument is out of range, or the object needs more than
   *     255 source blocks with these parameters
   */
  public static Oti forObject(
      long transferLength, int maxPayloadSize, int alignment, int minSubSymbolUnits, long workingMemoryBytes) {
    if (transferLength < 1 || transferLength > MAX_TRANSFER_LENGTH) {
      throw new IllegalArgumentException(
          "transfer length F = " + transferLength + ", expected 1.." + MAX_TRANSFER_LENGTH);
    }
    if (alignment < 1 || alignment > 255) {
      throw new IllegalArgumentException("alignment Al = " + alignment + ", expected 1..255");
    }
    if (maxPayloadSize < alignment || maxPayloadSize > 0xFFFF) {
      throw new IllegalArgumentException(
          "payload size P' = " + maxPayloadSize + ", expected " + alignment + "..65535");
    }
    if (minSubSymbolUnits < 1) {
      throw new IllegalArgumentException("SS = " + minSubSymbolUnits + ", expected >= 1");
    }
    if (workingMemoryBytes < 1) {
      throw new IllegalArgumentException("WS = " + workingMemoryBytes + ", expected >= 1");
    }
    int t = maxPayloadSize - maxPayloadSize % alignment;
    long kt = (transferLength + t - 1) / t;
    int nMax = Math.max(1, t / (minSubSymbolUnits * alignment));
    long klMax = kl(nMax, t, alignment, workingMemoryBytes);
    if (klMax == 0) {
      throw new IllegalArgumentException(
          "WS = " + workingMemoryBytes + " bytes is too small for T = " + t + ", Al = " + alignment
              + ": not even 10 sub-symbols fit");
    }
    long z = (kt + klMax - 1) / klMax;
    if (z > 255) {
      throw new IllegalArgumentException(
          "F = " + transferLength + " bytes needs Z = " + z + " source blocks with T = " + t
              + " and WS = " + workingMemoryBytes + "; at most 255 are possible (use a larger symbol size or smaller blocks)");
    }
    long perBlock = (kt + z - 1) / z;
    int n = nMax;
    for (int i = 1; i <= nMax; i++) {
      if (perBlock <= kl(i, t, alignment, workingMemoryBytes)) {
        n = i;
        break;
      }
    }
    return of(transferLength, t, (int) z, n, alignment);
  }

  private static long kl(int n, int t, int al, long ws) {
    long x = (t + (long) al * n - 1) / ((long) al * n);
    return ExtendedSourceSymbols.largestAtMost(ws / (al * x));
  }

  /**
   * The OTI the Rust RQ library writes for a block of {@code blockBytes} bytes encoded with symbol
   * size {@code symbolSize}: section 4.3 with P' = symbolSize, Al = SS = 8 when the symbol size is
   * at least 64 (else Al = SS = 1) and WS = 10 MiB (vectors/README.md).
   *
   * @throws IllegalArgumentException if blockBytes is not positive or symbolSize not in 1..65535
   */
  public static Oti forRqLibrary(long blockBytes, int symbolSize) {
    if (symbolSize < 1 || symbolSize > 0xFFFF) {
      throw new IllegalArgumentException("symbol size = " + symbolSize + ", expected 1..65535");
    }
    int al = symbolSize >= 64 ? 8 : 1;
    return forObject(blockBytes, symbolSize, al, al, RQ_LIBRARY_WORKING_MEMORY);
  }

  /** F, the object's length in bytes. */
  public long transferLength() {
    return transferLength;
  }

  /** T, bytes per symbol. */
  public int symbolSize() {
    return symbolSize;
  }

  /** Z, the number of source blocks. */
  public int sourceBlockCount() {
    return sourceBlockCount;
  }

  /** N, the number of sub-blocks of every source block. */
  public int subBlockCount() {
    return subBlockCount;
  }

  /** Al, the symbol alignment in bytes. */
  public int alignment() {
    return alignment;
  }

  /** Kt = ceil(F/T), the object's number of source symbols. */
  public long totalSourceSymbols() {
    return totalSourceSymbols;
  }

  /** Partition[Kt, Z]: KL, KS, ZL, ZS. */
  public Partition sourceBlockPartition() {
    return blocks;
  }

  /** Partition[T/Al, N]: TL, TS, NL, NS (sizes in units of Al). */
  public Partition subBlockPartition() {
    return subBlocks;
  }

  /** K of source block {@code sbn}. @throws IndexOutOfBoundsException if sbn is not in 0..Z-1 */
  public int sourceSymbols(int sbn) {
    return (int) blocks.size(sbn);
  }

  /** Byte offset in the object of source block {@code sbn}'s first symbol. */
  public long sourceBlockOffset(int sbn) {
    checkSbn(sbn);
    return blocks.start(sbn) * symbolSize;
  }

  /**
   * Bytes of the object held by source block {@code sbn}: K*T, less the zero padding for the last
   * block (which may be 0 bytes when F is small and Z large).
   */
  public long sourceBlockLength(int sbn) {
    long start = sourceBlockOffset(sbn);
    return Math.max(0, Math.min((long) sourceSymbols(sbn) * symbolSize, transferLength - start));
  }

  /** Bytes per sub-symbol of sub-block {@code n}: TL*Al or TS*Al. */
  public int subSymbolSize(int n) {
    return (int) (subBlocks.size(n) * alignment);
  }

  /** Offset of sub-block {@code n}'s sub-symbol within an encoding symbol, bytes. */
  public int subSymbolOffset(int n) {
    if (n < 0 || n >= subBlockCount) {
      throw new IndexOutOfBoundsException("sub-block " + n + ", expected 0.." + (subBlockCount - 1));
    }
    return (int) (subBlocks.start(n) * alignment);
  }

  private void checkSbn(int sbn) {
    if (sbn < 0 || sbn >= sourceBlockCount) {
      throw new IndexOutOfBoundsException(
          "source block " + sbn + ", expected 0.." + (sourceBlockCount - 1));
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Oti && Arrays.equals(encode(), ((Oti) o).encode());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encode());
  }

  @Override
  public String toString() {
    return "OTI(F=" + transferLength + ", T=" + symbolSize + ", Z=" + sourceBlockCount + ", N="
        + subBlockCount + ", Al=" + alignment + ")";
  }
}
