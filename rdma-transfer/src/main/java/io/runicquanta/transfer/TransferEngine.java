package io.runicquanta.transfer;

import java.time.Duration;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;

/**
 * Moves bytes between registered off-heap segments of this process and of peers, with one-sided
 * READ and WRITE over a configured transport ({@code local}, {@code tcp} or {@code fabric}).
 *
 * <h2>Usage</h2>
 *
 * <pre>{@code
 * try (TransferEngine engine = TransferEngine.builder().allocator(root).transport("tcp").rails(2).build();
 *     Segment buf = engine.allocateSegment("staging", 64 << 20)) {
 *   SegmentDescriptor remote = SegmentDescriptor.fromBytes(bytesFromPeer);
 *   engine.submit(List.of(TransferRequest.write(buf, 0, remote, 0, 1 << 20))).future().join();
 * }
 * }</pre>
 *
 * <p>Requests larger than the slice size are cut into slices spread over all rails and run
 * concurrently; bytes in flight are bounded; a slice whose rail fails is retried on the batch's
 * other rails, and a request fails only when no rail is left, when the target refuses it, or when
 * its timeout passes.
 *
 * <p>The engine owns named threads ({@code rq-transfer-<engine>-...}) that {@link #close()} stops.
 * {@link #close()} is idempotent: it fails every pending request, closes the transport and every
 * segment, and closes the engine's child allocator (reporting leaks). All methods are thread safe.
 */
public interface TransferEngine extends AutoCloseable {
  /** A builder with defaults: transport {@code local}, 1 rail, 64 KiB slices. */
  static TransferEngineBuilder builder() {
    return new TransferEngineBuilder();
  }

  /** The engine's name, used in thread names and errors. */
  String name();

  /** The transport's name. */
  String transport();

  /** Number of rails. */
  int rails();

  /**
   * Registers caller-owned memory. The caller keeps owning {@code memory} and must close the
   * returned segment before closing the buffer.
   *
   * @param name segment name, unique in this engine
   * @throws IllegalArgumentException if the name is taken or empty, or the buffer is empty
   * @throws IllegalStateException if the engine is closed
   */
  Segment registerSegment(String name, ArrowBuf memory);

  /**
   * Allocates {@code lengthBytes} from the engine's allocator and registers it. The segment owns the
   * memory; closing it frees it. The memory is zeroed.
   *
   * @throws IllegalArgumentException if the name is taken or empty, or the length is not positive
   * @throws org.apache.arrow.memory.OutOfMemoryException if the allocator's limit is reached
   */
  Segment allocateSegment(String name, long lengthBytes);

  /** Submits a batch with the engine's default request timeout. */
  default TransferBatch submit(List<TransferRequest> requests) {
    return submit(requests, null);
  }

  /**
   * Submits a batch; returns at once.
   *
   * @param requests at least one request whose local segment belongs to this engine
   * @param timeout per-request timeout, or null for the engine's default
   * @throws IllegalArgumentException if the batch is empty, a local segment belongs to another
   *     engine or is closed, a remote descriptor names another transport, or a remote range is
   *     outside the descriptor's length
   * @throws IllegalStateException if the engine is closed
   */
  TransferBatch submit(List<TransferRequest> requests, Duration timeout);

  /** Bytes moved per rail since start (completed slices only), indexed by rail. */
  long[] railBytes();

  /**
   * Closes one rail as if its link failed (for fault tests, or to drain a NIC): its slices in flight
   * fail and are retried on the other rails, later batches skip it, peers can no longer reach this
   * side through it. Idempotent.
   *
   * @throws IllegalArgumentException if {@code rail} is out of range
   */
  void closeRail(int rail);

  @Override
  void close();
}
