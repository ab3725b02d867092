package io.runicquanta.codec.raptorq;

/**
 * The generators of RFC 6330 section 5.3.5: Rand (5.3.5.1), Deg (5.3.5.2), Tuple (5.3.5.4), and the
 * list of intermediate symbol indices an encoding symbol combines (Enc, 5.3.5.3). Stateless.
 */
final class Generators {
  private Generators() {}

  /** Table 1 of section 5.3.5.2, f[0..30]. */
  static final int[] DEGREE_F = {
    0, 5243, 529531, 704294, 791675, 844104, 879057, 904023, 922747, 937311, 948962, 958494, 966438,
    973160, 978921, 983914, 988283, 992138, 995565, 998631, 1001391, 1003887, 1006157, 1008229,
    1010129, 1011876, 1013490, 1014983, 1016370, 1017662, 1048576
  };

  /** Rand[y, i, m] for y an unsigned 32-bit value (held in a long), 0 <= i < 256, m >= 1. */
  static int rand(long y, int i, int m) {
    int x0 = (int) ((y + i) & 0xFF);
    int x1 = (int) (((y >>> 8) + i) & 0xFF);
    int x2 = (int) (((y >>> 16) + i) & 0xFF);
    int x3 = (int) (((y >>> 24) + i) & 0xFF);
    long v =
        (Rfc6330Tables.V0[x0] ^ Rfc6330Tables.V1[x1] ^ Rfc6330Tables.V2[x2] ^ Rfc6330Tables.V3[x3])
            & 0xFFFFFFFFL;
    return (int) (v % m);
  }

  /** Deg[v] for 0 <= v < 2^20 and the block's W. */
  static int deg(int v, int w) {
    int d = 1;
    while (DEGREE_F[d] <= v) {
      d++;
    }
    return Math.min(d, w - 2);
  }

  /**
   * Tuple[K', X] as {d, a, b, d1, a1, b1}.
   *
   * @param x the ISI, 0 to 2^24 - 1 + (K' - K)
   */
  static int[] tuple(SystematicParams p, long x) {
    int[] t = new int[6];
    tuple(p, x, t);
    return t;
  }

  static void tuple(SystematicParams p, long x, int[] out) {
    long a = 53591L + p.j() * 997L;
    if (a % 2 == 0) {
      a++;
    }
    long b = 10267L * (p.j() + 1);
    long y = (b + x * a) & 0xFFFFFFFFL;
    int v = rand(y, 0, 1 << 20);
    int d = deg(v, p.w());
    out[0] = d;
    out[1] = 1 + rand(y, 1, p.w() - 1);
    out[2] = rand(y, 2, p.w());
    out[3] = d < 4 ? 2 + rand(x, 3, 2) : 2;
    out[4] = 1 + rand(x, 4, p.p1() - 1);
    out[5] = rand(x, 5, p.p1());
  }

  /**
   * The intermediate symbol indices Enc[] adds for ISI x (5.3.5.3), in the RFC's order; returns how
   * many were written to {@code out} (d + d1, at most 33). Indices may repeat only if the RFC's
   * walk repeats them (it does not for valid parameters); callers XOR, so a repeat would cancel as
   * the RFC's sum would.
   */
  static int encIndices(SystematicParams p, long x, int[] tupleScratch, int[] out) {
    return encIndices(p, x, tupleScratch, out, 0);
  }

  /** As above, writing the indices to {@code out} from {@code outOffset}; returns the count. */
  static int encIndices(
      SystematicParams p, long x, int[] tupleScratch, int[] out, int outOffset) {
    tuple(p, x, tupleScratch);
    int d = tupleScratch[0];
    int a = tupleScratch[1];
    int b = tupleScratch[2];
    int d1 = tupleScratch[3];
    int a1 = tupleScratch[4];
    int b1 = tupleScratch[5];
    int w = p.w();
    int pp = p.p();
    int p1 = p.p1();
    int n = outOffset;
    // 0 <= b, a < W and 0 <= b1, a1 < P1 (Tuple), so each "% W" / "% P1" step of the RFC's walk is
    // one conditional subtraction.
    out[n++] = b;
    for (int j = 1; j < d; j++) {
      b += a;
      if (b >= w) {
        b -= w;
      }
      out[n++] = b;
    }
    while (b1 >= pp) {
      b1 += a1;
      if (b1 >= p1) {
        b1 -= p1;
      }
    }
    out[n++] = w + b1;
    for (int j = 1; j < d1; j++) {
      b1 += a1;
      if (b1 >= p1) {
        b1 -= p1;
      }
      while (b1 >= pp) {
        b1 += a1;
        if (b1 >= p1) {
          b1 -= p1;
        }
      }
      out[n++] = w + b1;
    }
    return n - outOffset;
  }
}
