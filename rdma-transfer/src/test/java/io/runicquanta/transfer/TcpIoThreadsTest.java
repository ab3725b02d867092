package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The tcp transport drives its sockets with {@code tcp.ioThreads} loops per side, fewer than its
 * rails: every rail keeps its own connection (striping, retry on another rail), but rails share the
 * loops. Checks the thread structure, byte-exact data over rails that share a loop, a rail closed
 * while its loop also drives another rail, and refused options.
 */
class TcpIoThreadsTest {
  static final long PEER_BYTES = 16L << 20;
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension(1L << 30);

  static TransferEngine engine(BufferAllocator allocator, String name, int rails, String ioThreads) {
    return TransferEngine.builder().name(name).allocator(allocator).transport("tcp").rails(rails)
        .option("tcp.ioThreads", ioThreads).requestTimeout(Duration.ofSeconds(30)).build();
  }

  static long threads(String prefix) {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
  }

  /** WRITEs then READs back, 64 KiB and 1 MiB requests; returns the READ batch's bytes per rail. */
  static long[] roundTrip(TransferEngine engine, Segment local, SegmentDescriptor d, long seed) throws Exception {
    AbstractTransportContractTest.fill(local, 0, PEER_BYTES / 2, seed);
    List<TransferRequest> writes = new ArrayList<>();
    List<TransferRequest> reads = new ArrayList<>();
    for (long off = 0; off < PEER_BYTES / 2; ) {
      long len = (off / 65536) % 3 == 0 ? 1 << 20 : 65536;
      len = Math.min(len, PEER_BYTES / 2 - off);
      writes.add(TransferRequest.write(local, off, d, off, len));
      reads.add(TransferRequest.read(local, PEER_BYTES / 2 + off, d, off, len));
      off += len;
    }
    engine.submit(writes).future().get(60, TimeUnit.SECONDS);
    long[] before = engine.railBytes();
    engine.submit(reads).future().get(60, TimeUnit.SECONDS);
    long[] after = engine.railBytes();
    AbstractTransportContractTest.assertSameBytes(local, 0, local, PEER_BYTES / 2, PEER_BYTES / 2);
    long[] moved = new long[after.length];
    for (int i = 0; i < moved.length; i++) {
      moved[i] = after[i] - before[i];
    }
    return moved;
  }

  @Test
  void fourRailsShareOneLoopPerSide(BufferAllocator allocator) throws Exception {
    try (Peer peer = Peer.inJvm(allocator, "tcp", 4, Map.of("tcp.ioThreads", "1"), PEER_BYTES);
        TransferEngine engine = engine(allocator, "iothreads-a", 4, "1");
        Segment local = engine.allocateSegment("local", PEER_BYTES)) {
      long[] moved = roundTrip(engine, local, peer.descriptor(), 11);
      for (int r = 0; r < 4; r++) {
        assertTrue(moved[r] > 0, "rail " + r + " moved nothing: " + java.util.Arrays.toString(moved));
      }
      assertEquals(1, threads("rq-transfer-iothreads-a-tcp-io-"), "initiator loops");
      assertEquals(1, threads("rq-transfer-iothreads-a-tcp-serve-"), "target loops");
      assertEquals(0, threads("rq-transfer-iothreads-a-tcp-send-") + threads("rq-transfer-iothreads-a-tcp-recv-"),
          "per-connection threads");
      assertTrue(peer.guardsIntact());
    }
  }

  @Test
  void railClosedWhileItsLoopAlsoDrivesAnotherRail(BufferAllocator allocator) throws Exception {
    // 3 loops for 4 rails: rails 0 and 3 share loop 0.
    try (Peer peer = Peer.inJvm(allocator, "tcp", 4, Map.of("tcp.ioThreads", "3"), PEER_BYTES);
        TransferEngine engine = engine(allocator, "iothreads-b", 4, "3");
        Segment local = engine.allocateSegment("local", PEER_BYTES)) {
      SegmentDescriptor d = peer.descriptor();
      assertEquals(3, threads("rq-transfer-iothreads-b-tcp-io-"));
      roundTrip(engine, local, d, 12);
      // Close rail 0 while a batch of 64 KiB READs is on the rails; it still completes, on the others.
      List<TransferRequest> reads = new ArrayList<>();
      for (int i = 0; i < 1024; i++) {
        long off = (i % 128) * 65536L;
        reads.add(TransferRequest.read(local, PEER_BYTES / 2 + off, d, off, 65536));
      }
      TransferBatch batch = engine.submit(reads);
      engine.closeRail(0);
      batch.future().get(60, TimeUnit.SECONDS);
      AbstractTransportContractTest.assertSameBytes(local, 0, local, PEER_BYTES / 2, 128 * 65536L);
      long[] moved = roundTrip(engine, local, d, 13);
      assertEquals(0, moved[0], "closed rail 0 still used");
      assertTrue(moved[3] > 0, "rail 3, on rail 0's loop, no longer used: " + java.util.Arrays.toString(moved));
      assertTrue(peer.guardsIntact());
    }
  }

  @Test
  void badOptionsAreRefused(BufferAllocator allocator) {
    for (Map.Entry<String, String> bad : List.of(Map.entry("tcp.ioThreads", "0"),
        Map.entry("tcp.sendBuffer", "-1"), Map.entry("tcp.receiveBuffer", "-5"))) {
      RuntimeException e = assertThrows(RuntimeException.class, () -> TransferEngine.builder().allocator(allocator)
          .transport("tcp").rails(2).option(bad.getKey(), bad.getValue()).build());
      String msg = e.getMessage() + (e.getCause() == null ? "" : " / " + e.getCause().getMessage());
      assertTrue(msg.contains(bad.getKey()), msg);
    }
  }
}
