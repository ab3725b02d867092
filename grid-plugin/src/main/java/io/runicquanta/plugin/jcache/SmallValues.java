package io.runicquanta.plugin.jcache;

import io.runicquanta.plugin.StashOptions;

/**
 * Symbol size for values whose size is known: a tiny value coded with the node's default symbol
 * size (up to 64 KiB) would pad every symbol, so values get a symbol size of about a sixteenth of
 * their length (at least 64 bytes, a multiple of 8), unless the cache's options name one.
 */
final class SmallValues {
  private SmallValues() {}

  static StashOptions options(StashOptions base, long size) {
    if (base.symbolSize() != 0) {
      return base;
    }
    long t = Math.max(64, ((size / 16) + 7) / 8 * 8);
    if (t >= 65528) {
      return base;
    }
    return base.symbolSize((int) t);
  }
}
