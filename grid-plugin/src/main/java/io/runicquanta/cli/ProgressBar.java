package io.runicquanta.cli;

import io.runicquanta.plugin.StashOptions;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on standard error ({@code \r}-redrawn at most 10 times a second):
 * {@code stash [#######.............]  35%  93.1 / 266.0 MB  41.2 MB/s}. Drawn only when enabled
 * (a terminal, or {@code --progress}); {@link #finish} clears the line. Thread safe.
 */
final class ProgressBar implements StashOptions.Progress {
  private static final int WIDTH = 30;
  private final String label;
  private final PrintWriter err;
  private final boolean enabled;
  private final long start = System.nanoTime();
  private long lastDraw;
  private boolean drawn;

  ProgressBar(String label, PrintWriter err, boolean enabled) {
    this.label = label;
    this.err = err;
    this.enabled = enabled;
  }

  /** True when stderr is a terminal: {@code System.console()} exists only if both ends are one. */
  static boolean isTerminal() {
    return System.console() != null;
  }

  @Override
  public synchronized void update(long done, long total) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    if (drawn && now - lastDraw < 100_000_000L && done != total) {
      return;
    }
    lastDraw = now;
    drawn = true;
    err.print("\r" + line(done, total, (now - start) / 1e9));
    err.flush();
  }

  /** The bar's text for these figures. */
  String line(long done, long total, double secs) {
    double mbps = secs > 0 ? done / 1e6 / secs : 0;
    if (total > 0) {
      int pct = (int) Math.min(100, done * 100 / total);
      int fill = (int) Math.min(WIDTH, done * WIDTH / total);
      return String.format(Locale.ROOT, "%s [%s%s] %3d%% %7.1f / %.1f MB %6.1f MB/s", label,
          "#".repeat(fill), ".".repeat(WIDTH - fill), pct, done / 1e6, total / 1e6, mbps);
    }
    return String.format(Locale.ROOT, "%s %7.1f MB %6.1f MB/s", label, done / 1e6, mbps);
  }

  /** Clears the bar's line. */
  synchronized void finish() {
    if (drawn) {
      err.print("\r" + " ".repeat(WIDTH + label.length() + 50) + "\r");
      err.flush();
      drawn = false;
    }
  }
}
