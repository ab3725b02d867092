package io.runicquanta.transfer.spi;

import java.util.concurrent.CompletableFuture;

/**
 * An open transport with a fixed number of rails, serving both sides: it initiates slices for its
 * engine and serves remote peers' requests against the engine's {@link TargetSegments}. Thread safe.
 * {@link #close()} is idempotent: it fails every pending slice with a {@link
 * io.runicquanta.transfer.RailFailedException}, stops its threads and frees its native resources.
 */
public interface Transport extends AutoCloseable {
  /** The provider's name. */
  String name();

  /** Number of rails. */
  int rails();

  /**
   * Registers memory with every rail. The caller owns the result and closes it before freeing the
   * memory.
   *
   * @param segmentName name peers use
   * @param key registration key peers must present (unique per registration within the engine)
   * @param address native address
   * @param length bytes
   */
  MemoryRegistration register(String segmentName, long key, long address, long length);

  /**
   * Starts one slice on one rail; does not block on the network. The future completes when the
   * bytes are in place, or exceptionally as described in the package comment.
   *
   * @param rail rail index, {@code 0 <= rail < rails()}
   */
  CompletableFuture<Void> submit(int rail, SliceOp slice);

  /**
   * Largest slice this transport wants when the engine's builder leaves {@code sliceBytes} unset.
   * The engine still cuts a request into at least one slice per rail and keeps two slices per rail
   * within its in-flight bound, so this is an upper limit. Default 64 KiB.
   */
  default int preferredSliceBytes() {
    return 64 << 10;
  }

  /**
   * Largest request that the engine may run synchronously on the submitting thread with {@link
   * #runInline} instead of {@link #submit} (only requests that fit one slice). 0 (the default): never.
   * Meant for transports whose slice costs less than a thread hand-off, such as an in-process copy.
   */
  default int inlineBytes() {
    return 0;
  }

  /**
   * Runs one slice on the calling thread and returns when the bytes are in place; throws what the
   * future of {@link #submit} would have failed with. Called only when {@link #inlineBytes()} is
   * positive.
   *
   * @param rail rail index, {@code 0 <= rail < rails()}
   */
  default void runInline(int rail, SliceOp slice) {
    throw new UnsupportedOperationException(name() + " does not run slices inline");
  }

  /**
   * Runs {@code n} slices on the calling thread, as {@link #runInline(int, SliceOp)} each, and
   * returns when they are all done; {@code errors[i]} is set to what slice {@code i} failed with
   * (left null when it succeeded). The default runs them one after the other; a transport may
   * prepare them together and copy back to back.
   *
   * @param rail rail index, {@code 0 <= rail < rails()}
   */
  default void runInline(int rail, SliceOp[] slices, int n, RuntimeException[] errors) {
    for (int i = 0; i < n; i++) {
      try {
        runInline(rail, slices[i]);
      } catch (RuntimeException e) {
        errors[i] = e;
      }
    }
  }

  /**
   * Runs at most one slice that this transport has queued but not started, on the calling thread
   * (a thread waiting for a batch calls it instead of parking while work is queued). Returns false
   * when there was nothing the caller could run. The slice completes its future as if its rail ran
   * it. Default: nothing to run.
   */
  default boolean help() {
    return false;
  }

  /**
   * Closes one rail as if its link failed: its pending slices fail with {@link
   * io.runicquanta.transfer.RailFailedException}, later slices on it fail at once, and peers can no
   * longer reach this side through it. Idempotent.
   */
  void closeRail(int rail);

  @Override
  void close();
}
