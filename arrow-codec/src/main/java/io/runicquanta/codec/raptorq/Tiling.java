package io.runicquanta.codec.raptorq;

/**
 * Layout of a workspace of {@code slots} symbols of {@code symbolSize} bytes in off-heap memory,
 * cut into tiles: tile i holds bytes [i * stripe, i * stripe + width(i)) of every slot, slot after
 * slot, so one tile (slots x stripe bytes) is contiguous and sized to stay in a core's L2 cache
 * while a {@link SymbolProgram} runs over it ({@link SymbolOps#run}). Random access to slots then
 * hits the cache and the TLB instead of memory. A workspace that fits in cache is one tile.
 *
 * <p>The tiles need not be contiguous with each other: they are grouped into pieces of at most
 * {@link #PIECE_BYTES} (whole tiles), each its own allocation (see {@link #allocate}). Measured on
 * the development VM: a buffer above glibc's largest mmap threshold (32 MiB) is mapped fresh on
 * every allocation and each of its pages faults on first touch, at about 16 us per 4 KiB page
 * (0.2 GB/s: 140 ms for 34 MiB, against 1.3 ms for 30 MiB, which malloc reuses); with a plan and
 * workspace per block that cost more than the coding itself for 16 and 64 MiB objects. Pieces of
 * 16 MiB or less are reused by malloc (or Netty's pool) from block to block as long as malloc
 * keeps them, which it often does not (see {@link WorkspacePool}, which keeps them). Immutable; the
 * memory belongs to the caller.
 */
final class Tiling {
  /** Bytes one tile aims for (a share of the L3 cache; measured best of 0.5, 1 and 4 MiB here). */
  static final long TILE_BYTES = Long.getLong("runicquanta.raptorq.tileBytes", 4L << 20);
  /** Narrowest stripe, bytes: below this the per-operation dispatch dominates. */
  static final int MIN_STRIPE = Integer.getInteger("runicquanta.raptorq.minStripeBytes", 256);

  /** Largest single allocation for a workspace or a copy of symbols, bytes. */
  static final long PIECE_BYTES = Long.getLong("runicquanta.raptorq.pieceBytes", 16L << 20);

  /** Base address of each piece; piece p holds tiles p * tilesPerPiece ... */
  final long[] pieceBase;
  final int tilesPerPiece;
  final int slots;
  final int symbolSize;
  final int stripe;
  final int tiles;

  /** One contiguous workspace at {@code base} (a single piece). */
  Tiling(long base, int slots, int symbolSize) {
    this(new long[] {base}, Integer.MAX_VALUE, slots, symbolSize);
  }

  private Tiling(long[] pieceBase, int tilesPerPiece, int slots, int symbolSize) {
    this.pieceBase = pieceBase;
    this.tilesPerPiece = tilesPerPiece;
    this.slots = slots;
    this.symbolSize = symbolSize;
    this.stripe = stripeBytes(slots, symbolSize);
    this.tiles = (symbolSize + stripe - 1) / stripe;
  }

  /** Whole tiles per piece of at most {@link #PIECE_BYTES} (at least one). */
  static int tilesPerPiece(int slots, int symbolSize) {
    long tileBytes = (long) slots * stripeBytes(slots, symbolSize);
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, PIECE_BYTES / Math.max(1, tileBytes)));
  }

  /**
   * Allocates a workspace of these dimensions from {@code allocator} in pieces; the buffers are
   * added to {@code owned} (the caller closes them, also when this throws).
   */
  static Tiling allocate(
      WorkspacePool.Source allocator, int slots, int symbolSize,
      java.util.List<org.apache.arrow.memory.ArrowBuf> owned) {
    int stripe = stripeBytes(slots, symbolSize);
    int tiles = (symbolSize + stripe - 1) / stripe;
    int tpp = tilesPerPiece(slots, symbolSize);
    int pieces = (tiles + tpp - 1) / tpp;
    long[] bases = new long[pieces];
    for (int p = 0; p < pieces; p++) {
      int first = p * tpp;
      int last = Math.min(tiles, first + tpp); // exclusive
      long bytes = (long) slots * (Math.min((long) symbolSize, (long) last * stripe)
          - (long) first * stripe);
      org.apache.arrow.memory.ArrowBuf b = allocator.take(Math.max(1, bytes));
      owned.add(b);
      bases[p] = b.memoryAddress();
    }
    return new Tiling(bases, tpp, slots, symbolSize);
  }

  /** Bytes a workspace of these dimensions needs. */
  static long bytes(int slots, int symbolSize) {
    return (long) slots * symbolSize;
  }

  static int stripeBytes(int slots, int len) {
    long target = Math.max(MIN_STRIPE, TILE_BYTES / Math.max(1, slots));
    if (target >= len) {
      return len;
    }
    int n = (int) ((len + target - 1) / target);
    int stripe = (len + n - 1) / n;
    stripe = (stripe + 7) & ~7;
    return Math.min(len, stripe);
  }

  /** Byte offset of tile i inside a symbol. */
  long offset(int i) {
    return (long) i * stripe;
  }

  int width(int i) {
    return (int) Math.min(stripe, symbolSize - (long) i * stripe);
  }

  long tileBase(int i) {
    int p = i / tilesPerPiece;
    return pieceBase[p] + (long) slots * (i - (long) p * tilesPerPiece) * stripe;
  }

  /** Address of the part of slot {@code slot} in tile i. */
  long address(int i, int slot) {
    return tileBase(i) + (long) slot * width(i);
  }
}
