package io.runicquanta.codec;

import io.runicquanta.codec.raptorq.SystematicParams;

/**
 * The supported numbers of extended source symbols K' (RFC 6330 section 5.6, Table 2, first
 * column), as the object-level partitioning (section 4.3) needs them; the table itself lives in
 * {@link SystematicParams}.
 */
final class ExtendedSourceSymbols {
  private ExtendedSourceSymbols() {}

  /** Largest supported K (and K'): RFC 6330 section 5.1.2. */
  static final int MAX_K = SystematicParams.MAX_SOURCE_SYMBOLS;

  /** The largest K' of Table 2 that is at most {@code limit}, or 0 if even the smallest (10) is larger. */
  static int largestAtMost(long limit) {
    return SystematicParams.largestExtendedAtMost(limit);
  }

  /** The smallest K' of Table 2 that is at least {@code k} (RFC 6330 section 5.3.1), k in 1..56403. */
  static int extended(int k) {
    if (k < 1 || k > MAX_K) {
      throw new IllegalArgumentException("K = " + k + ", expected 1.." + MAX_K);
    }
    return SystematicParams.forSourceSymbols(k).kPrime();
  }

  /** The number of rows of Table 2 (477). */
  static int count() {
    return SystematicParams.tableRows();
  }
}
