package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Many small requests in flight on one tcp connection: the target holds READ responses and writes
 * them together with their payloads, the initiator reads each payload with the next header behind
 * it. Checks byte-exact data, a refusal in the middle of a pipeline of READs (and WRITEs) keeping
 * the stream in step, and a peer process killed while hundreds of READs are in flight.
 */
class TcpPipelineTest {
  static final long PEER_BYTES = 16L << 20;
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension(1L << 30);

  static TransferEngine engine(BufferAllocator allocator, int rails, Duration timeout) {
    return TransferEngine.builder().allocator(allocator).transport("tcp").rails(rails)
        .requestTimeout(timeout).build();
  }

  @Test
  void pipelinedReadsAndWritesWithRefusalsInTheMiddleStayInStep(BufferAllocator allocator) throws Exception {
    try (Peer peer = Peer.inJvm(allocator, "tcp", 1, Map.of(), PEER_BYTES);
        TransferEngine engine = engine(allocator, 1, Duration.ofSeconds(30));
        Segment local = engine.allocateSegment("local", 2 * PEER_BYTES)) {
      SegmentDescriptor d = peer.descriptor();
      List<RailEndpoint> forged = new ArrayList<>();
      for (RailEndpoint r : d.rails()) {
        forged.add(new RailEndpoint(r.address(), r.key() + 1, r.baseAddress()));
      }
      // Same endpoint (same connection), wrong key: refused by the target.
      SegmentDescriptor bad = new SegmentDescriptor(d.name(), d.length(), d.transport(), forged);
      AbstractTransportContractTest.fill(local, 0, PEER_BYTES, 5);
      // Sizes: 64 KiB, tiny, and odd, so headers and payloads split at every place in the reads.
      int[] sizes = {65536, 1, 4099, 65536, 20, 70_001, 65536, 3};
      List<TransferRequest> writes = new ArrayList<>();
      List<TransferRequest> reads = new ArrayList<>();
      List<Integer> refusedAt = new ArrayList<>();
      long off = 0;
      for (int i = 0; off + 70_001 < PEER_BYTES / 2; i++) {
        int len = sizes[i % sizes.length];
        if (i % 37 == 17) {
          refusedAt.add(i);
          writes.add(TransferRequest.write(local, off, bad, off, len));
          reads.add(TransferRequest.read(local, PEER_BYTES + off, bad, off, len));
        } else {
          writes.add(TransferRequest.write(local, off, d, off, len));
          reads.add(TransferRequest.read(local, PEER_BYTES + off, d, off, len));
        }
        off += len;
      }
      assertTrue(reads.size() > 200 && refusedAt.size() > 5, reads.size() + " requests");
      TransferBatch w = engine.submit(writes);
      awaitAll(w);
      TransferBatch r = engine.submit(reads);
      awaitAll(r);
      for (TransferBatch b : List.of(w, r)) {
        for (int i = 0; i < b.requests().size(); i++) {
          CompletableFuture<Void> f = b.requests().get(i);
          if (refusedAt.contains(i)) {
            ExecutionException e = assertThrows(ExecutionException.class, f::get);
            assertInstanceOf(TransferRefusedException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("key"), e.getCause().getMessage());
          } else {
            f.get();
          }
        }
        assertThrows(ExecutionException.class, () -> b.future().get(30, TimeUnit.SECONDS));
      }
      for (int i = 0; i < reads.size(); i++) {
        TransferRequest rq = reads.get(i);
        if (!refusedAt.contains(i)) {
          AbstractTransportContractTest.assertSameBytes(local, rq.remoteOffset(), local, rq.localOffset(), rq.length());
        } else {
          // A refused READ leaves its destination untouched (the segment was zeroed).
          java.nio.ByteBuffer dst = AbstractTransportContractTest.view(local, rq.localOffset(), rq.length());
          while (dst.hasRemaining()) {
            assertEquals(0, dst.get(), "a refused READ wrote into its destination");
          }
        }
      }
      assertTrue(peer.guardsIntact());
      // The connection is still usable after all that.
      engine.submit(List.of(TransferRequest.write(local, 0, d, 0, 1 << 20))).future().get(30, TimeUnit.SECONDS);
      TransferBatch again = engine.submit(List.of(TransferRequest.read(local, PEER_BYTES, d, 0, 1 << 20)));
      again.future().get(30, TimeUnit.SECONDS);
      AbstractTransportContractTest.assertSameBytes(local, 0, local, PEER_BYTES, 1 << 20);
    }
  }

  /** Waits until every request of the batch is done, however it ended. */
  static void awaitAll(TransferBatch b) throws Exception {
    for (CompletableFuture<Void> f : b.requests()) {
      try {
        f.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException expected) {
        // checked by the caller
      }
    }
  }

  @Test
  void peerProcessKilledWhileManySmallReadsAreInFlight(BufferAllocator allocator) throws Exception {
    Duration timeout = Duration.ofSeconds(8);
    Peer peer = Peer.process("tcp", 2, Map.of(), PEER_BYTES);
    try (TransferEngine engine = engine(allocator, 2, timeout);
        Segment local = engine.allocateSegment("local", PEER_BYTES)) {
      SegmentDescriptor d = peer.descriptor();
      // A first batch completes: the pipeline works against this process.
      List<TransferRequest> warm = new ArrayList<>();
      for (long off = 0; off < PEER_BYTES; off += 65536) {
        warm.add(TransferRequest.read(local, off, d, off, 65536));
      }
      engine.submit(warm).future().get(30, TimeUnit.SECONDS);
      // Then 4096 READs of 64 KiB (256 MiB, over the same 16 MiB again and again), killed mid-way.
      List<TransferRequest> reads = new ArrayList<>();
      for (int i = 0; i < 4096; i++) {
        long off = (i % 256) * 65536L;
        reads.add(TransferRequest.read(local, off, d, off, 65536));
      }
      long before = java.util.Arrays.stream(engine.railBytes()).sum();
      TransferBatch batch = engine.submit(reads);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (java.util.Arrays.stream(engine.railBytes()).sum() < before + (8 << 20)) {
        assertTrue(System.nanoTime() < deadline, "no progress before the kill");
        Thread.sleep(1);
      }
      long t0 = System.nanoTime();
      peer.kill();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> batch.future().get(timeout.toMillis() + 5000, TimeUnit.MILLISECONDS));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertInstanceOf(TransferException.class, e.getCause());
      assertTrue(ms < timeout.toMillis() + 3000, "failed only after " + ms + " ms");
      String msg = e.getCause().getMessage();
      assertTrue(msg.contains("no rail left") || msg.contains("timed out"), msg);
      assertTrue(java.util.Arrays.stream(engine.railBytes()).sum() - before < 4096L * 65536,
          "every READ completed although the peer was killed");
    } finally {
      peer.close();
    }
  }
}
