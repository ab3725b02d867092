package io.runicquanta.plugin;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The node's {@link RqPluginConfiguration#maxMemory()} shared by its stash and reveal operations:
 * each operation reserves what its slots may need (blocks in flight x a per-block estimate) before
 * it allocates, and waits while other operations hold the budget, so many concurrent operations
 * queue instead of failing on the allocator's limit. An operation is never reserved more than the
 * whole budget (a single operation larger than it still runs alone; the allocator's limit remains
 * the hard cap). Counted in KiB. Thread safe.
 */
final class MemoryBudget {
  private final int totalKiB;
  private final Semaphore permits;

  MemoryBudget(long bytes) {
    this.totalKiB = (int) Math.min(Integer.MAX_VALUE, Math.max(1, bytes >> 10));
    this.permits = new Semaphore(totalKiB, true);
  }

  /** A reservation; close it to give the memory back. */
  final class Lease implements AutoCloseable {
    private int kib;

    private Lease(int kib) {
      this.kib = kib;
    }

    @Override
    public void close() {
      if (kib > 0) {
        permits.release(kib);
        kib = 0;
      }
    }
  }

  /**
   * Reserves {@code bytes} (capped at the budget), waiting up to {@code timeoutMillis}.
   *
   * @throws RqException RESOURCE_EXHAUSTED if the budget stays taken that long
   */
  Lease reserve(long bytes, String what, long timeoutMillis) {
    int kib = (int) Math.min(totalKiB, Math.max(1, (bytes + 1023) >> 10));
    try {
      if (!permits.tryAcquire(kib, timeoutMillis, TimeUnit.MILLISECONDS)) {
        throw new RqException(RqException.Code.RESOURCE_EXHAUSTED, what + ": waited "
            + timeoutMillis + " ms for " + kib + " KiB of the node's stash/reveal memory (maxMemory"
            + " = " + ((long) totalKiB << 10) + " bytes); other operations hold it", null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RqException(RqException.Code.UNAVAILABLE, what + ": interrupted while waiting for"
          + " memory", e);
    }
    return new Lease(kib);
  }

  /** @return KiB free now (for tests) */
  int availableKiB() {
    return permits.availablePermits();
  }
}
