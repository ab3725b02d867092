package io.runicquanta.codec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/** Runs a batch of tasks on the caller's executor and waits for all of them. Internal. */
public final class Tasks {
  private Tasks() {}

  /**
   * Runs every task on {@code executor} and waits until all have finished (also when one fails, so
   * no task still touches shared buffers after this returns). The first failure is rethrown, later
   * ones are added as suppressed.
   *
   * @throws RuntimeException the first task's unchecked exception (or a CodecException wrapping a
   *     checked one)
   */
  public static void runAll(Executor executor, List<? extends Runnable> tasks) {
    if (tasks.size() == 1) {
      tasks.get(0).run();
      return;
    }
    List<CompletableFuture<Void>> futures = new ArrayList<>(tasks.size());
    for (Runnable task : tasks) {
      futures.add(CompletableFuture.runAsync(task, executor));
    }
    RuntimeException first = null;
    for (CompletableFuture<Void> f : futures) {
      try {
        f.join();
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        RuntimeException r;
        if (cause instanceof RuntimeException) {
          r = (RuntimeException) cause;
        } else if (cause instanceof Error) {
          throw (Error) cause;
        } else {
          r = new CodecException("task failed: " + cause, cause);
        }
        if (first == null) {
          first = r;
        } else if (first != r) {
          first.addSuppressed(r);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
