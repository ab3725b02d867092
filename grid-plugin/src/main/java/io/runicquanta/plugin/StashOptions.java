package io.runicquanta.plugin;

/**
 * How one object is stashed. Unset fields take the node's {@link RqPluginConfiguration} defaults.
 * Immutable; the {@code with...} methods return copies.
 *
 * @param lossTolerance m, node losses the object must survive, or -1 for the node default
 * @param blockSize bytes per source block, or 0 for the node default
 * @param symbolSize T in bytes (1..65535), or 0 for the node default
 * @param releaseSource for Arrow sources: clear the source's vectors (free their buffers) once
 *     stored
 * @param progress called with (bytes stored so far, total or -1 if unknown); may be null
 */
public record StashOptions(
    int lossTolerance, long blockSize, int symbolSize, boolean releaseSource, Progress progress) {

  /** Receives progress of a long stash or reveal. */
  @FunctionalInterface
  public interface Progress {
    /**
     * @param done bytes done
     * @param total bytes in all, or -1 when unknown
     */
    void update(long done, long total);
  }

  /** @return all node defaults, sources kept, no progress callback */
  public static StashOptions defaults() {
    return new StashOptions(-1, 0, 0, false, null);
  }

  /** @return a copy with loss tolerance m */
  public StashOptions lossTolerance(int m) {
    return new StashOptions(m, blockSize, symbolSize, releaseSource, progress);
  }

  /** @return a copy with this block size */
  public StashOptions blockSize(long bytes) {
    return new StashOptions(lossTolerance, bytes, symbolSize, releaseSource, progress);
  }

  /** @return a copy with this symbol size */
  public StashOptions symbolSize(int t) {
    return new StashOptions(lossTolerance, blockSize, t, releaseSource, progress);
  }

  /** @return a copy that releases (or keeps) the source's buffers */
  public StashOptions releaseSource(boolean release) {
    return new StashOptions(lossTolerance, blockSize, symbolSize, release, progress);
  }

  /** @return a copy reporting progress to {@code p} */
  public StashOptions progress(Progress p) {
    return new StashOptions(lossTolerance, blockSize, symbolSize, releaseSource, p);
  }
}
