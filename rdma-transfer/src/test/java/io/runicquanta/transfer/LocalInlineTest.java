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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code local} transport's inline path: requests of at most 128 KiB are copied on the
 * submitting thread (see {@code DefaultTransferEngine}), larger ones still go to the rails.
 */
class LocalInlineTest {
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension(1L << 30);

  static TransferEngine engine(BufferAllocator allocator, int rails) {
    return TransferEngine.builder().allocator(allocator).transport("local").rails(rails)
        .requestTimeout(Duration.ofSeconds(30)).build();
  }

  @Test
  void smallRequestsAreDoneWhenSubmitReturnsAndRotateOverTheRails(BufferAllocator allocator) throws Exception {
    try (Peer peer = Peer.inJvm(allocator, "local", 2, Map.of(), 8 << 20);
        TransferEngine engine = engine(allocator, 3);
        Segment local = engine.allocateSegment("local", 8 << 20)) {
      AbstractTransportContractTest.fill(local, 0, 4 << 20, 21);
      List<TransferRequest> writes = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        writes.add(TransferRequest.write(local, i * 65536L, peer.descriptor(), i * 65536L + 3, 65536));
      }
      TransferBatch batch = engine.submit(writes);
      assertTrue(batch.future().isDone(), "64 KiB requests were not run on the submitting thread");
      batch.future().get();
      long[] perRail = engine.railBytes();
      for (int r = 0; r < perRail.length; r++) {
        assertTrue(perRail[r] > 0, "rail " + r + " carried no inline request: " + java.util.Arrays.toString(perRail));
      }
      assertEquals(4L << 20, perRail[0] + perRail[1] + perRail[2]);
      TransferBatch read = engine.submit(List.of(TransferRequest.read(local, 4 << 20, peer.descriptor(), 3, 4 << 20)));
      read.future().get(30, TimeUnit.SECONDS);
      AbstractTransportContractTest.assertSameBytes(local, 0, local, 4 << 20, 4 << 20);
      // A request above the inline size still goes to a rail thread (and may not be done yet).
      TransferBatch large = engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, 1 << 20)));
      large.future().get(30, TimeUnit.SECONDS);
      assertEquals(AbstractTransportContractTest.crc(local, 0, 1 << 20), peer.crc(0, 1 << 20));
    }
  }

  /**
   * Four threads copy small requests inline (WRITEs to disjoint ranges, mixed with READs) while a
   * rail is closed on this side and another on the peer's side: every byte arrives, the closed rail
   * carries nothing afterwards, nothing leaks.
   */
  @Test
  void inlineCopiesUnderConcurrencyWhileRailsClose(BufferAllocator allocator) throws Exception {
    int threads = 4;
    int batches = 40;
    int perBatch = 8;
    int req = 100_000;
    long half = (long) threads * batches * perBatch * req;
    try (Peer peer = Peer.inJvm(allocator, "local", 4, Map.of(), half + 1);
        TransferEngine engine = engine(allocator, 4);
        Segment local = engine.allocateSegment("local", 2 * half)) {
      AbstractTransportContractTest.fill(local, 0, half, 77);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      CountDownLatch halfway = new CountDownLatch(threads);
      AtomicInteger reads = new AtomicInteger();
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int tt = t;
          done.add(pool.submit(() -> {
            for (int b = 0; b < batches; b++) {
              if (b == batches / 2) {
                halfway.countDown();
              }
              List<TransferRequest> reqs = new ArrayList<>();
              for (int r = 0; r < perBatch; r++) {
                long off = (((long) tt * batches + b) * perBatch + r) * req;
                reqs.add(TransferRequest.write(local, off, peer.descriptor(), off + 1, req));
              }
              engine.submit(reqs).future().get(30, TimeUnit.SECONDS);
              // Read back what this thread wrote last batch, into the second half.
              long off = (((long) tt * batches + b) * perBatch) * req;
              engine.submit(List.of(TransferRequest.read(local, half + off, peer.descriptor(), off + 1, req)))
                  .future().get(30, TimeUnit.SECONDS);
              reads.incrementAndGet();
            }
            return null;
          }));
        }
        assertTrue(halfway.await(60, TimeUnit.SECONDS));
        engine.closeRail(1);
        peer.closeRail(2);
        long railOne = engine.railBytes()[1];
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
        // Copies running on rail 1 when it closed may still count: at most one request per thread.
        assertTrue(engine.railBytes()[1] - railOne <= (long) threads * req,
            "rail 1 carried " + (engine.railBytes()[1] - railOne) + " bytes after it closed");
      } finally {
        pool.shutdownNow();
      }
      assertEquals(threads * batches, reads.get());
      for (int t = 0; t < threads; t++) {
        for (int b = 0; b < batches; b++) {
          long off = (((long) t * batches + b) * perBatch) * req;
          AbstractTransportContractTest.assertSameBytes(local, off, local, half + off, req);
        }
      }
      // Everything, read back in one large request (rails), matches too.
      TransferBatch all = engine.submit(List.of(TransferRequest.read(local, half, peer.descriptor(), 1, half)));
      all.future().get(60, TimeUnit.SECONDS);
      AbstractTransportContractTest.assertSameBytes(local, 0, local, half, half);
    }
  }

  @Test
  void everyRailClosedFailsInlineRequestsClearly(BufferAllocator allocator) throws Exception {
    try (Peer peer = Peer.inJvm(allocator, "local", 2, Map.of(), 1 << 20);
        TransferEngine engine = engine(allocator, 2);
        Segment local = engine.allocateSegment("local", 1 << 20)) {
      peer.closeRail(0);
      peer.closeRail(1);
      TransferBatch batch = engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, 4096)));
      ExecutionException e = assertThrows(ExecutionException.class, () -> batch.future().get(30, TimeUnit.SECONDS));
      assertInstanceOf(TransferException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("no rail left"), e.getCause().getMessage());
    }
  }

  /**
   * A batch whose requests all run inline never needs the engine's timer (it used to schedule and
   * cancel one per batch, waking the timer thread each time): after many such batches the timer
   * thread was never started. A batch with a request on a rail does start it.
   */
  @Test
  void inlineBatchesScheduleNoTimer(BufferAllocator allocator) throws Exception {
    String name = "inline-timer-" + System.nanoTime();
    String timerThread = "rq-transfer-" + name + "-timer";
    try (Peer peer = Peer.inJvm(allocator, "local", 2, Map.of(), 4 << 20);
        TransferEngine engine = TransferEngine.builder().name(name).allocator(allocator).transport("local")
            .rails(2).requestTimeout(Duration.ofSeconds(30)).build();
        Segment local = engine.allocateSegment("local", 4 << 20)) {
      AbstractTransportContractTest.fill(local, 0, 2 << 20, 5);
      for (int b = 0; b < 50; b++) {
        List<TransferRequest> writes = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
          writes.add(TransferRequest.write(local, i * 65536L, peer.descriptor(), i * 65536L, 65536));
        }
        engine.submit(writes).future().get(30, TimeUnit.SECONDS);
      }
      assertEquals(AbstractTransportContractTest.crc(local, 0, 2 << 20), peer.crc(0, 2 << 20));
      assertTrue(threadNamed(timerThread) == null, "inline batches started the timer thread");
      engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, 1 << 20))).future()
          .get(30, TimeUnit.SECONDS);
      assertTrue(threadNamed(timerThread) != null, "a batch with a request on a rail started no timer");
    }
  }

  static Thread threadNamed(String name) {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(name)) {
        return t;
      }
    }
    return null;
  }

  /**
   * Without a timer, inline requests are checked against their deadline while they run: a batch
   * whose timeout has passed before its first copy fails every request with {@link
   * TransferTimeoutException} and copies nothing.
   */
  @Test
  void inlineRequestsPastTheirDeadlineTimeOut(BufferAllocator allocator) throws Exception {
    try (Peer peer = Peer.inJvm(allocator, "local", 1, Map.of(), 1 << 20);
        TransferEngine engine = engine(allocator, 1);
        Segment local = engine.allocateSegment("local", 1 << 20)) {
      AbstractTransportContractTest.fill(local, 0, 1 << 20, 9);
      long before = peer.crc(0, 1 << 20);
      List<TransferRequest> writes = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        writes.add(TransferRequest.write(local, i * 16384L, peer.descriptor(), i * 16384L, 16384));
      }
      TransferBatch batch = engine.submit(writes, Duration.ofNanos(1));
      ExecutionException e = assertThrows(ExecutionException.class, () -> batch.future().get(30, TimeUnit.SECONDS));
      assertInstanceOf(TransferTimeoutException.class, e.getCause());
      for (var f : batch.requests()) {
        ExecutionException fe = assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(TransferTimeoutException.class, fe.getCause());
        assertTrue(fe.getCause().getMessage().contains("timed out"), fe.getCause().getMessage());
      }
      assertEquals(before, peer.crc(0, 1 << 20), "a timed-out inline request wrote to the peer");
      // The engine still works afterwards.
      engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, 65536))).future()
          .get(30, TimeUnit.SECONDS);
      assertEquals(AbstractTransportContractTest.crc(local, 0, 65536), peer.crc(0, 65536));
    }
  }

  /**
   * Inline requests run in groups (checks and pins first, then the copies back to back): a request
   * refused by the target (its segment closed) fails alone with {@link TransferRefusedException},
   * the requests around it in the same group are copied byte for byte, and every pin is released
   * (both segments close without waiting, nothing leaks).
   */
  @Test
  void aRefusedRequestInAnInlineGroupFailsAlone(BufferAllocator allocator) throws Exception {
    try (TransferEngine peer = TransferEngine.builder().name("group-peer").allocator(allocator).transport("local")
            .rails(1).build();
        Segment open = peer.allocateSegment("open", 2 << 20);
        TransferEngine engine = engine(allocator, 1);
        Segment local = engine.allocateSegment("local", 2 << 20)) {
      Segment closed = peer.allocateSegment("closed", 2 << 20);
      SegmentDescriptor gone = closed.descriptor();
      closed.close();
      AbstractTransportContractTest.fill(local, 0, 2 << 20, 17);
      List<TransferRequest> mixed = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        long off = i * 32768L;
        mixed.add(i % 5 == 3
            ? TransferRequest.write(local, off, gone, off, 32768)
            : TransferRequest.write(local, off, open.descriptor(), off + 1, 32768));
      }
      TransferBatch batch = engine.submit(mixed);
      assertTrue(batch.future().isDone(), "inline requests were not done when submit returned");
      ExecutionException e = assertThrows(ExecutionException.class, () -> batch.future().get(30, TimeUnit.SECONDS));
      assertInstanceOf(TransferRefusedException.class, e.getCause());
      for (int i = 0; i < 40; i++) {
        var f = batch.requests().get(i);
        long off = i * 32768L;
        if (i % 5 == 3) {
          ExecutionException fe = assertThrows(ExecutionException.class, f::get);
          assertInstanceOf(TransferRefusedException.class, fe.getCause());
          assertTrue(fe.getCause().getMessage().contains("'closed'"), fe.getCause().getMessage());
        } else {
          f.get();
          assertEquals(AbstractTransportContractTest.crc(local, off, 32768),
              AbstractTransportContractTest.crc(open, off + 1, 32768), "request " + i);
        }
      }
    }
  }
}
