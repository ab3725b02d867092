package io.runicquanta.transfer;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Futures of one submitted batch. Thread safe.
 *
 * <p>Each request's future completes normally when all its bytes are in place (for a WRITE: in the
 * target's memory, not only sent), or exceptionally with a {@link TransferException} ({@link
 * TransferRefusedException}, {@link TransferTimeoutException}, or a plain one when no rail is left or
 * the engine closed), or with a {@link java.util.concurrent.CancellationException}. The batch future
 * completes once every request future has completed, exceptionally if any failed, and not before
 * every slice already handed to a rail has finished: after it completes, the batch never touches
 * local or remote memory again (a request future alone does not promise that after a cancel or a
 * timeout).
 */
public interface TransferBatch {
  /** Completes when every request has completed and none of the batch's slices is still on a rail. */
  CompletableFuture<Void> future();

  /** One future per request, in submission order. Cancelling one cancels that request only. */
  List<CompletableFuture<Void>> requests();

  /** Total bytes of the batch. */
  long bytes();

  /**
   * Cancels every request not yet complete: slices not yet started are dropped; slices already on a
   * rail finish or fail on their own but no longer affect the futures. Memory of a cancelled READ may
   * still be written until those slices finish; closing the local segment waits for them.
   *
   * @return true if at least one request was cancelled by this call
   */
  boolean cancel();
}
