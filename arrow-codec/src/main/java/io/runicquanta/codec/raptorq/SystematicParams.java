package io.runicquanta.codec.raptorq;

/**
 * The parameters RFC 6330 derives from a source block's K (sections 5.3.1, 5.3.3.3, 5.6): K' (the
 * smallest K' of Table 2 with K' >= K), J, S, H, W, and L = K' + S + H, P = L - W, P1 = the smallest
 * prime >= P, U = P - H, B = W - S. Immutable value; thread safe.
 */
public final class SystematicParams {
  /** The largest K RFC 6330 supports. */
  public static final int MAX_SOURCE_SYMBOLS = 56403;

  private final int k;
  private final int kPrime;
  private final int j;
  private final int s;
  private final int h;
  private final int w;
  private final int p1;

  private SystematicParams(int k, int row) {
    this.k = k;
    this.kPrime = Rfc6330Tables.K_PRIME[row];
    this.j = Rfc6330Tables.J[row];
    this.s = Rfc6330Tables.S[row];
    this.h = Rfc6330Tables.H[row];
    this.w = Rfc6330Tables.W[row];
    this.p1 = nextPrime(kPrime + s + h - w);
  }

  /**
   * The parameters for a block of K source symbols.
   *
   * @param sourceSymbols K, 1 to {@value #MAX_SOURCE_SYMBOLS}
   * @throws IllegalArgumentException if K is out of range
   */
  public static SystematicParams forSourceSymbols(int sourceSymbols) {
    if (sourceSymbols < 1 || sourceSymbols > MAX_SOURCE_SYMBOLS) {
      throw new IllegalArgumentException(
          "K (source symbols) = " + sourceSymbols + ", expected 1 to " + MAX_SOURCE_SYMBOLS);
    }
    int[] kp = Rfc6330Tables.K_PRIME;
    int lo = 0;
    int hi = kp.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (kp[mid] >= sourceSymbols) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return new SystematicParams(sourceSymbols, lo);
  }

  /**
   * The largest K' of Table 2 (RFC 6330 section 5.6) that is at most {@code limit}, or 0 when even
   * the smallest (10) is larger; used by the partitioning rule KL(n) of section 4.3.
   */
  public static int largestExtendedAtMost(long limit) {
    int[] kp = Rfc6330Tables.K_PRIME;
    int best = 0;
    int lo = 0;
    int hi = kp.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (kp[mid] <= limit) {
        best = kp[mid];
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }

  /** The number of rows of Table 2 (477). */
  public static int tableRows() {
    return Rfc6330Tables.K_PRIME.length;
  }

  private static int nextPrime(int n) {
    for (int c = Math.max(n, 2); ; c++) {
      boolean prime = true;
      for (int d = 2; d * d <= c; d++) {
        if (c % d == 0) {
          prime = false;
          break;
        }
      }
      if (prime) {
        return c;
      }
    }
  }

  /** K. */
  public int k() {
    return k;
  }

  /** K', the extended block size (Table 2). */
  public int kPrime() {
    return kPrime;
  }

  /** J(K'), the systematic index. */
  public int j() {
    return j;
  }

  /** S(K'), LDPC symbols. */
  public int s() {
    return s;
  }

  /** H(K'), HDPC symbols. */
  public int h() {
    return h;
  }

  /** W(K'), LT symbols. */
  public int w() {
    return w;
  }

  /** L = K' + S + H, intermediate symbols. */
  public int l() {
    return kPrime + s + h;
  }

  /** P = L - W, permanently inactive symbols. */
  public int p() {
    return l() - w;
  }

  /** P1, the smallest prime >= P. */
  public int p1() {
    return p1;
  }

  /** U = P - H. */
  public int u() {
    return p() - h;
  }

  /** B = W - S. */
  public int b() {
    return w - s;
  }

  @Override
  public String toString() {
    return "SystematicParams{K=" + k + ", K'=" + kPrime + ", J=" + j + ", S=" + s + ", H=" + h
        + ", W=" + w + ", L=" + l() + ", P=" + p() + ", P1=" + p1 + ", U=" + u() + ", B=" + b()
        + "}";
  }
}
