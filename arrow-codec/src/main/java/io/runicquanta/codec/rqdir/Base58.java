package io.runicquanta.codec.rqdir;

/** Base58 with the Bitcoin alphabet (no 0, O, I, l); leading zero bytes become '1'. Stateless. */
public final class Base58 {
  private static final char[] ALPHABET =
      "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".toCharArray();
  private static final int[] INDEX = new int[128];

  static {
    java.util.Arrays.fill(INDEX, -1);
    for (int i = 0; i < ALPHABET.length; i++) {
      INDEX[ALPHABET[i]] = i;
    }
  }

  private Base58() {}

  /** Encodes {@code data} (not modified). */
  public static String encode(byte[] data) {
    int zeros = 0;
    while (zeros < data.length && data[zeros] == 0) {
      zeros++;
    }
    byte[] input = data.clone();
    char[] out = new char[data.length * 2];
    int outStart = out.length;
    int start = zeros;
    while (start < input.length) {
      int remainder = 0;
      for (int i = start; i < input.length; i++) {
        int digit = (input[i] & 0xFF) + remainder * 256;
        input[i] = (byte) (digit / 58);
        remainder = digit % 58;
      }
      out[--outStart] = ALPHABET[remainder];
      while (start < input.length && input[start] == 0) {
        start++;
      }
    }
    for (int i = 0; i < zeros; i++) {
      out[--outStart] = ALPHABET[0];
    }
    return new String(out, outStart, out.length - outStart);
  }

  /** True if {@code s} is non-empty and uses only the Base58 alphabet (so it is also a safe file name). */
  public static boolean isBase58(String s) {
    if (s == null || s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 128 || INDEX[c] < 0) {
        return false;
      }
    }
    return true;
  }
}
