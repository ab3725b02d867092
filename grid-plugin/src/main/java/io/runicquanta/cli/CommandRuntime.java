package io.runicquanta.cli;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/** The allocator and worker threads of one command run; closed at its end. */
final class CommandRuntime implements AutoCloseable {
  /** Cap on off-heap memory of one command: far above what the flat-memory codec uses. */
  private static final long ALLOCATOR_LIMIT = 1L << 30;

  final BufferAllocator allocator;
  final ExecutorService executor;
  final int threads;

  CommandRuntime(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("--threads = " + threads + ", expected >= 1");
    }
    this.threads = threads;
    this.allocator = new RootAllocator(ALLOCATOR_LIMIT);
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "rq-worker-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  static int defaultThreads() {
    return java.lang.Runtime.getRuntime().availableProcessors();
  }

  @Override
  public void close() {
    executor.shutdownNow();
    allocator.close();
  }
}
