package io.runicquanta.codec.raptorq;

/**
 * Octet arithmetic of RFC 6330 section 5.7: GF(256) with the reducing polynomial x^8 + x^4 + x^3 +
 * x^2 + 1 (0x11D) and generator alpha = 2. The OCT_EXP and OCT_LOG tables (5.7.3, 5.7.4) are
 * computed from the polynomial here; {@code Gf256Test} compares them with the RFC text.
 *
 * <p>Also holds the word-parallel helpers used on symbol memory: {@link #xtimeWord} multiplies the
 * eight octets packed in a {@code long} by alpha at once, and {@link #mulTable} gives the 256-entry
 * product table of one coefficient.
 */
final class Gf256 {
  private Gf256() {}

  /** OCT_EXP, 510 entries: alpha^i for i in 0..509. */
  static final int[] EXP = new int[510];

  /** OCT_LOG, index 1..255 (index 0 unused, -1). */
  static final int[] LOG = new int[256];

  /** MUL[a * 256 + b] = a * b: 64 KiB, used for matrix work (not symbol data). */
  private static final byte[] MUL = new byte[256 * 256];

  static {
    int x = 1;
    for (int i = 0; i < 255; i++) {
      EXP[i] = x;
      EXP[i + 255] = x;
      x <<= 1;
      if (x >= 256) {
        x ^= 0x11D;
      }
    }
    LOG[0] = -1;
    for (int i = 0; i < 255; i++) {
      LOG[EXP[i]] = i;
    }
    for (int a = 1; a < 256; a++) {
      for (int b = 1; b < 256; b++) {
        MUL[(a << 8) | b] = (byte) EXP[LOG[a] + LOG[b]];
      }
    }
  }

  /** a * b. */
  static int mul(int a, int b) {
    return MUL[(a << 8) | b] & 0xFF;
  }

  /** 1 / a, a != 0. */
  static int inv(int a) {
    if (a == 0) {
      throw new ArithmeticException("inverse of the zero octet");
    }
    return EXP[255 - LOG[a]];
  }

  /** alpha^i for any i >= 0 (exponent taken mod 255). */
  static int alphaPow(int i) {
    return EXP[i % 255];
  }

  /** Offset of the 256-entry row of {@code c} in {@link #mulTable()}: MUL[offset + b] = c * b. */
  static int mulTableOffset(int c) {
    return c << 8;
  }

  /** The shared 64 KiB product table (read only). */
  static byte[] mulTable() {
    return MUL;
  }

  private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;
  private static final long HIGH1 = 0x0101010101010101L;

  /** Multiplies each of the 8 octets packed in {@code w} by alpha (= 2). */
  static long xtimeWord(long w) {
    return ((w & LOW7) << 1) ^ (((w >>> 7) & HIGH1) * 0x1D);
  }

  /** Multiplies each of the 8 octets packed in {@code w} by {@code c}. */
  static long mulWord(long w, int c) {
    long r = 0;
    while (c != 0) {
      if ((c & 1) != 0) {
        r ^= w;
      }
      c >>>= 1;
      if (c != 0) {
        w = xtimeWord(w);
      }
    }
    return r;
  }
}
