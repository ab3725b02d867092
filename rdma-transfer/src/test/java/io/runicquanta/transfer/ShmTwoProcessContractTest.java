package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;

/**
 * The contract on the {@code fabric} transport over libfabric's {@code shm} provider with the peer in
 * a second JVM ({@link TransferPeerMain}, started and killed by the tests). Skips where libfabric or
 * shm is missing, and fails then under CI=true.
 *
 * <p>Two provider limits of shm 1.17, both measured: a refused access (bad key, range outside the
 * region) gets no completion at all, so the engine sees a stalled rail rather than a refusal, and the
 * target's endpoint then takes no more operations from that initiator (see {@link
 * #badRequestsAreRefusedAndNothingOutsideTheSegmentIsWritten}); and a
 * peer process killed mid-transfer can leave the initiator's rail thread inside libfabric for good
 * (see {@link #peerVanishingMidTransferFailsWithinTheTimeout}).
 */
class ShmTwoProcessContractTest extends FabricTransportContractTest {
  @Override
  protected String provider() {
    return "shm";
  }

  @Override
  protected boolean remotePeer() {
    return true;
  }

  @Override
  protected boolean refusalsAreExplicit() {
    return false;
  }

  /**
   * The shm variant of the killed-peer case. The base case kills the peer while operations run, which
   * shm 1.17 cannot survive: shm posts an operation by taking a spin lock that lives in the target's
   * shared memory region ({@code pthread_spin_lock(&peer_smr->lock)} in {@code smr_generic_rma}), and
   * the target holds its own region's lock while it works through its command queue. A target killed
   * at that moment never releases it, and the initiator's next {@code fi_write}/{@code fi_read} spins
   * in that lock forever (in the first run of this class the batch neither failed nor completed within
   * the 8 s timeout + 5 s, and 4 accesses were still in flight 60 s later; no engine-side timeout can
   * take a thread back from native code). So here the peer is killed (SIGKILL) between transfers,
   * after a batch to it completed, and the next batch to it, 64 MiB each way, must fail within its
   * timeout with a clear error and not hang. (Measured, not asserted: afterwards the same engine's shm
   * endpoints reached no new peer either, every operation stalling until {@code fabric.stallMillis};
   * an engine that lost a shm peer has to be rebuilt.)
   */
  @Override
  @Test
  void peerVanishingMidTransferFailsWithinTheTimeout(BufferAllocator allocator) throws Exception {
    long len = 64L << 20;
    java.time.Duration timeout = java.time.Duration.ofSeconds(8);
    Peer dead = peer(allocator);
    try (TransferEngine engine = engine(allocator, 2, 256 << 10, timeout);
        Segment local = engine.allocateSegment("local", len)) {
      fill(local, 0, 1 << 20, 5);
      engine.submit(List.of(TransferRequest.write(local, 0, dead.descriptor(), 0, 1 << 20)))
          .future().get(30, java.util.concurrent.TimeUnit.SECONDS);
      dead.kill();
      long t0 = System.nanoTime();
      TransferBatch batch = engine.submit(List.of(
          TransferRequest.write(local, 0, dead.descriptor(), 0, len),
          TransferRequest.read(local, 0, dead.descriptor(), 0, len)));
      java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> batch.future().get(timeout.toMillis() + 5000, java.util.concurrent.TimeUnit.MILLISECONDS));
      long ms = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      org.junit.jupiter.api.Assertions.assertInstanceOf(TransferException.class, e.getCause());
      assertTrue(ms < timeout.toMillis() + 3000, "failed only after " + ms + " ms");
      String msg = e.getCause().getMessage();
      assertTrue(msg.contains("no rail left") || msg.contains("timed out") || msg.contains("closed"), msg);
    } finally {
      dead.close();
    }
  }

  /**
   * The shm variant of the refusal case: every request the engine refuses at submission, then one
   * forged request per direction that only the target can refuse (a length beyond the registration),
   * which must fail (as a stall: shm 1.17 sends no completion for it) and leave the peer's memory
   * outside the segment untouched. Not run for shm, measured: after such a refusal the target does not
   * take further operations from this initiator ({@code fi_write} returns {@code -FI_EAGAIN} for good,
   * seen in a full run; not traced, probably the target stops at the refused command), so the base test's
   * "a good request still works afterwards" and closed-segment steps cannot pass on shm.
   */
  @Override
  @Test
  void badRequestsAreRefusedAndNothingOutsideTheSegmentIsWritten(BufferAllocator allocator) throws Exception {
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 2);
        Segment local = engine.allocateSegment("local", 1 << 20)) {
      fill(local, 0, 1 << 20, 11);
      SegmentDescriptor d = peer.descriptor();
      long n = d.length();
      assertThrows(IllegalArgumentException.class,
          () -> engine.submit(List.of(TransferRequest.write(local, 0, d, n - 10, 100))));
      assertThrows(IllegalArgumentException.class, () -> TransferRequest.write(local, 0, d, -1, 100));
      SegmentDescriptor forgedLength = new SegmentDescriptor(d.name(), n + (1 << 20), d.transport(), d.rails());
      assertRefused(engine.submit(List.of(TransferRequest.write(local, 0, forgedLength, n + 4096, 1000))));
      assertRefused(engine.submit(List.of(TransferRequest.read(local, 0, forgedLength, n - 10, 100))));
      assertTrue(peer.guardsIntact(), "a refused request wrote outside the segment");
    }
  }
}
