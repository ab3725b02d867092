package io.runicquanta.codec.raptorq;

/**
 * Layout of a workspace of {@code slots} symbols of {@code symbolSize} bytes in off-heap memory,
 * cut into tiles: tile i holds bytes [i * stripe, i * stripe + width(i)) of every slot, slot after
 * slot, so one tile (slots x stripe bytes) is contiguous and sized to stay in a core's L2 cache
 * while a {@link SymbolProgram} runs over it ({@link SymbolOps#run}). Random access to slots then
 * hits the cache and the TLB instead of memory. A workspace that fits in cache is one tile.
 * Immutable; the memory belongs to the caller.
 */
final class Tiling {
  /** Bytes one tile aims for (a share of the L3 cache; measured best of 0.5, 1 and 4 MiB here). */
  static final long TILE_BYTES = Long.getLong("runicquanta.raptorq.tileBytes", 4L << 20);
  /** Narrowest stripe, bytes: below this the per-operation dispatch dominates. */
  static final int MIN_STRIPE = Integer.getInteger("runicquanta.raptorq.minStripeBytes", 256);

  final long base;
  final int slots;
  final int symbolSize;
  final int stripe;
  final int tiles;

  Tiling(long base, int slots, int symbolSize) {
    this.base = base;
    this.slots = slots;
    this.symbolSize = symbolSize;
    this.stripe = stripeBytes(slots, symbolSize);
    this.tiles = (symbolSize + stripe - 1) / stripe;
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
    return base + (long) slots * i * stripe;
  }

  /** Address of the part of slot {@code slot} in tile i. */
  long address(int i, int slot) {
    return tileBase(i) + (long) slot * width(i);
  }
}
