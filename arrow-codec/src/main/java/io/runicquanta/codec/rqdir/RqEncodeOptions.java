package io.runicquanta.codec.rqdir;

/**
 * The RQ library's encoding parameters and the rules that follow from them (vectors/README.md).
 * Immutable.
 *
 * <ul>
 *   <li>Blocks: one block if the block size is at least the file size, otherwise ceil(F / block
 *       size) blocks of the block size (the last shorter). Block size 0 means automatic: no
 *       chunking below maxMemoryMb * 2^20 / 1.5 bytes, otherwise floor((maxMemoryMb * 2^20 / 1.5) /
 *       4 / symbolSize) * symbolSize bytes.
 *   <li>Repair symbols per source block: the redundancy factor if the block is at most one symbol
 *       (of the configured size), else ceil(size * (redundancy - 1) / symbolSize).
 * </ul>
 *
 * @param symbolSize the configured symbol size P', bytes, 1..65535 (T is P' rounded down to the
 *     alignment: 65535 gives 65528)
 * @param redundancy the redundancy factor, at least 1 (4 = about three repair symbols per source
 *     symbol)
 * @param blockSizeBytes block size, bytes, or 0 for the automatic choice
 * @param maxMemoryMb the memory budget the automatic block size derives from, MiB, at least 1
 */
public record RqEncodeOptions(int symbolSize, int redundancy, long blockSizeBytes, long maxMemoryMb) {
  /** The library's default symbol size. */
  public static final int DEFAULT_SYMBOL_SIZE = 65535;
  /** The library's default redundancy factor. */
  public static final int DEFAULT_REDUNDANCY = 4;
  /** The library's default memory budget, MiB. */
  public static final long DEFAULT_MAX_MEMORY_MB = 16384;

  /** @throws IllegalArgumentException for a value out of range, naming it */
  public RqEncodeOptions {
    if (symbolSize < 1 || symbolSize > 65535) {
      throw new IllegalArgumentException("symbol size = " + symbolSize + ", expected 1..65535");
    }
    if (redundancy < 1) {
      throw new IllegalArgumentException("redundancy = " + redundancy + ", expected >= 1");
    }
    if (blockSizeBytes < 0) {
      throw new IllegalArgumentException("block size = " + blockSizeBytes + ", expected >= 1 (or 0 for auto)");
    }
    if (maxMemoryMb < 1) {
      throw new IllegalArgumentException("max memory = " + maxMemoryMb + " MiB, expected >= 1");
    }
  }

  /** The library's defaults: symbol size 65535, redundancy 4, automatic block size, 16384 MiB. */
  public static RqEncodeOptions defaults() {
    return new RqEncodeOptions(DEFAULT_SYMBOL_SIZE, DEFAULT_REDUNDANCY, 0, DEFAULT_MAX_MEMORY_MB);
  }

  /** The block size used for a file of {@code fileSize} bytes (fileSize itself means one block). */
  public long blockSizeFor(long fileSize) {
    if (blockSizeBytes > 0) {
      return Math.min(blockSizeBytes, fileSize);
    }
    double budget = maxMemoryMb * 1048576.0 / 1.5;
    if ((double) fileSize < budget) {
      return fileSize;
    }
    long block = (long) Math.floor(budget / 4 / symbolSize) * symbolSize;
    if (block < 1) {
      throw new IllegalArgumentException(
          "max memory " + maxMemoryMb + " MiB gives an automatic block size below one symbol of " + symbolSize + " bytes");
    }
    return Math.min(block, fileSize);
  }

  /** R, repair symbols per source block of a block of {@code blockBytes} bytes. */
  public int repairSymbols(long blockBytes) {
    if (blockBytes <= symbolSize) {
      return redundancy;
    }
    long r = Math.floorDiv(blockBytes * (redundancy - 1) + symbolSize - 1, symbolSize);
    if (r > (1 << 24)) {
      throw new IllegalArgumentException(
          "a block of " + blockBytes + " bytes at redundancy " + redundancy + " needs " + r
              + " repair symbols, more than the 2^24 ESIs available");
    }
    return (int) r;
  }
}
