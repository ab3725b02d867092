package io.runicquanta.cli;

import java.util.Locale;
import picocli.CommandLine;

/** Byte sizes on the command line: {@code 65536}, {@code 64k}, {@code 256m}, {@code 1g}, {@code 2GiB}. */
final class Sizes implements CommandLine.ITypeConverter<Long> {
  @Override
  public Long convert(String value) {
    return parse("size", value);
  }

  /**
   * @param what the option's name for the message
   * @param value a number of bytes with an optional binary suffix k, m, g, t (KiB, MiB, ...)
   * @return bytes
   * @throws IllegalArgumentException naming the option and the value
   */
  static long parse(String what, String value) {
    String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    if (v.endsWith("ib")) {
      v = v.substring(0, v.length() - 2);
    } else if (v.endsWith("b")) {
      v = v.substring(0, v.length() - 1);
    }
    int shift = 0;
    if (!v.isEmpty()) {
      switch (v.charAt(v.length() - 1)) {
        case 'k' -> shift = 10;
        case 'm' -> shift = 20;
        case 'g' -> shift = 30;
        case 't' -> shift = 40;
        default -> shift = 0;
      }
    }
    String num = shift == 0 ? v : v.substring(0, v.length() - 1);
    try {
      long n = Long.parseLong(num.trim());
      if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
        throw new NumberFormatException();
      }
      return n << shift;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          what + " = '" + value + "', expected a byte count such as 65536, 64k, 256m or 1g");
    }
  }

  /** @return {@code bytes} for people: 1.5 GiB, 256.0 MiB, 512 B */
  static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
