package io.runicquanta.testing;

/**
 * The splitmix64 generator used by the shared test vectors (vectors/README.md): state +=
 * 0x9E3779B97F4A7C15, then the two multiply-xorshift rounds; each output is emitted as 8
 * little-endian bytes. Not thread safe.
 */
public final class SplitMix64 {
  private long state;

  public SplitMix64(long seed) {
    this.state = seed;
  }

  /** The next 64-bit output. */
  public long nextLong() {
    state += 0x9E3779B97F4A7C15L;
    long z = state;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Fills {@code dst} with the byte stream (little-endian words, the last one truncated). */
  public void nextBytes(byte[] dst) {
    int i = 0;
    while (i < dst.length) {
      long z = nextLong();
      for (int b = 0; b < 8 && i < dst.length; b++, i++) {
        dst[i] = (byte) (z >>> (8 * b));
      }
    }
  }

  /** {@code n} bytes of the stream seeded with {@code seed}. */
  public static byte[] bytes(long seed, int n) {
    byte[] out = new byte[n];
    new SplitMix64(seed).nextBytes(out);
    return out;
  }
}
