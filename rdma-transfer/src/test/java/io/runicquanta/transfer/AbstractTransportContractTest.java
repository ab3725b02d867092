package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.SplitMix64;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract every transport must meet, run by one small subclass per transport and placement
 * (peer in this JVM or in a second process): byte-exact data for 1 byte to 64 MiB at unaligned
 * offsets, concurrent batches, striping over 1, 2 and 4 rails, a rail closed mid-batch on either
 * side, a peer vanishing mid-transfer, refusal of every bad request without touching memory outside
 * the segment, cancellation, close with work pending, and no allocator leak (AllocatorExtension).
 */
abstract class AbstractTransportContractTest {
  static final long PEER_BYTES = (64L << 20) + (64 << 10);
  static final int PEER_RAILS = 4;

  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension(4L << 30);

  /** The transport under test. */
  protected abstract String transport();

  /** Transport options for both sides. */
  protected Map<String, String> options() {
    return Map.of();
  }

  /** True to run the peer in a second JVM process. */
  protected boolean remotePeer() {
    return false;
  }

  /** Skips (or fails under CI) when the transport cannot run here. */
  @BeforeEach
  void requireTransport() {
    requireAvailable();
  }

  protected void requireAvailable() {}

  /**
   * Null when the peer may vanish or close a rail while this side is writing to it, else the reason
   * this transport/placement cannot survive that (the fault tests are then skipped with it).
   */
  protected String peerFaultLimitation() {
    return null;
  }

  /**
   * True when the target reports a refused access explicitly ({@link TransferRefusedException});
   * false when the provider drops it silently and the engine only sees a stalled rail.
   */
  protected boolean refusalsAreExplicit() {
    return true;
  }

  void requirePeerFaults() {
    String why = peerFaultLimitation();
    org.junit.jupiter.api.Assumptions.assumeTrue(why == null, why);
  }

  Peer peer(BufferAllocator allocator) {
    return remotePeer()
        ? Peer.process(transport(), PEER_RAILS, options(), PEER_BYTES)
        : Peer.inJvm(allocator, transport(), PEER_RAILS, options(), PEER_BYTES);
  }

  TransferEngine engine(BufferAllocator allocator, int rails, long maxInFlight, Duration timeout) {
    TransferEngineBuilder b = TransferEngine.builder().allocator(allocator).transport(transport())
        .rails(rails).maxBytesInFlight(maxInFlight).requestTimeout(timeout);
    options().forEach(b::option);
    return b.build();
  }

  TransferEngine engine(BufferAllocator allocator, int rails) {
    return engine(allocator, rails, 64L << 20, Duration.ofSeconds(30));
  }

  static void fill(Segment s, long offset, long length, long seed) {
    byte[] data = SplitMix64.bytes(seed, (int) length);
    s.buffer().setBytes(offset, data);
  }

  static ByteBuffer view(Segment s, long offset, long length) {
    return s.buffer().nioBuffer(offset, (int) length);
  }

  static long crc(Segment s, long offset, long length) {
    CRC32 crc = new CRC32();
    crc.update(view(s, offset, length));
    return crc.getValue();
  }

  static void assertSameBytes(Segment a, long aOff, Segment b, long bOff, long length) {
    int mismatch = view(a, aOff, length).mismatch(view(b, bOff, length));
    assertEquals(-1, mismatch, () -> "bytes differ at offset " + mismatch + " of " + length);
  }

  static void join(TransferBatch batch) throws Exception {
    batch.future().get(60, TimeUnit.SECONDS);
  }

  /** Writes {@code length} bytes at unaligned offsets, reads them back elsewhere, compares all. */
  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(longs = {1, 7, 4099, 65536, 65537, (1 << 20) + 13, 64L << 20})
  void writeThenReadBackIsByteExact(long length, BufferAllocator allocator) throws Exception {
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 2);
        Segment local = engine.allocateSegment("local", 2 * length + 64)) {
      long src = 3;
      long dst = length + 17;
      long remoteOff = length == (64L << 20) ? 5 : 4093;
      fill(local, src, length, length);
      SegmentDescriptor remote = peer.descriptor();
      join(engine.submit(List.of(TransferRequest.write(local, src, remote, remoteOff, length))));
      assertEquals(crc(local, src, length), peer.crc(remoteOff, length), "target bytes after WRITE");
      join(engine.submit(List.of(TransferRequest.read(local, dst, remote, remoteOff, length))));
      assertSameBytes(local, src, local, dst, length);
      assertTrue(peer.guardsIntact());
    }
  }

  @Test
  void manySmallUnalignedRequestsInOneBatch(BufferAllocator allocator) throws Exception {
    Random rnd = new Random(42);
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 2);
        Segment local = engine.allocateSegment("local", 8 << 20)) {
      fill(local, 0, 4 << 20, 7);
      List<TransferRequest> writes = new ArrayList<>();
      List<TransferRequest> reads = new ArrayList<>();
      long remoteOff = 1;
      for (int i = 0; i < 200; i++) {
        long len = 1 + rnd.nextInt(20_000);
        long localOff = rnd.nextInt((4 << 20) - 20_001);
        writes.add(TransferRequest.write(local, localOff, peer.descriptor(), remoteOff, len));
        reads.add(TransferRequest.read(local, (4 << 20) + localOff, peer.descriptor(), remoteOff, len));
        remoteOff += len + rnd.nextInt(7);
      }
      join(engine.submit(writes));
      // Reads go to a copy of the same local offsets shifted by 4 MiB: later writes may overlap locally, not remotely.
      join(engine.submit(reads));
      for (TransferRequest w : writes) {
        assertSameBytes(local, w.localOffset(), local, (4 << 20) + w.localOffset(), w.length());
      }
    }
  }

  @Test
  void manyConcurrentBatchesFromSeveralThreads(BufferAllocator allocator) throws Exception {
    int threads = 4;
    int batchesPerThread = 12;
    int requestsPerBatch = 4;
    int reqBytes = 100_003;
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 4, 4L << 20, Duration.ofSeconds(30));
        Segment local = engine.allocateSegment("local", 2L * threads * batchesPerThread * requestsPerBatch * reqBytes)) {
      long half = (long) threads * batchesPerThread * requestsPerBatch * reqBytes;
      fill(local, 0, half, 99);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int tt = t;
          done.add(pool.submit(() -> {
            List<CompletableFuture<Void>> mine = new ArrayList<>();
            for (int b = 0; b < batchesPerThread; b++) {
              List<TransferRequest> reqs = new ArrayList<>();
              for (int r = 0; r < requestsPerBatch; r++) {
                long off = (((long) tt * batchesPerThread + b) * requestsPerBatch + r) * reqBytes;
                reqs.add(TransferRequest.write(local, off, peer.descriptor(), off + 1, reqBytes));
              }
              mine.add(engine.submit(reqs).future());
            }
            CompletableFuture.allOf(mine.toArray(new CompletableFuture<?>[0])).join();
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      join(engine.submit(List.of(TransferRequest.read(local, half, peer.descriptor(), 1, half))));
      assertSameBytes(local, 0, local, half, half);
    }
  }

  @ParameterizedTest(name = "{0} rails")
  @ValueSource(ints = {1, 2, 4})
  void largeRequestsAreStripedOverEveryRail(int rails, BufferAllocator allocator) throws Exception {
    long len = 16L << 20;
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, rails);
        Segment local = engine.allocateSegment("local", 2 * len)) {
      fill(local, 0, len, rails);
      join(engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 3, len))));
      long[] perRail = engine.railBytes();
      assertEquals(rails, perRail.length);
      long sum = 0;
      for (int r = 0; r < rails; r++) {
        assertTrue(perRail[r] > 0, "rail " + r + " carried no bytes: " + java.util.Arrays.toString(perRail));
        sum += perRail[r];
      }
      assertEquals(len, sum);
      join(engine.submit(List.of(TransferRequest.read(local, len, peer.descriptor(), 3, len))));
      assertSameBytes(local, 0, local, len, len);
    }
  }

  @Test
  void railClosedMidBatchIsRetriedOnTheOthers(BufferAllocator allocator) throws Exception {
    long len = 48L << 20;
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 4, 1 << 20, Duration.ofSeconds(60));
        Segment local = engine.allocateSegment("local", 2 * len)) {
      fill(local, 0, len, 5);
      TransferBatch batch = engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, len)));
      waitForProgress(engine, batch, 2 << 20);
      engine.closeRail(1);
      long railOneAfterClose = engine.railBytes()[1];
      join(batch);
      long railOneAfterBatch = engine.railBytes()[1];
      // Slices already finishing on rail 1 when it closed may still count; nothing beyond the in-flight bound.
      assertTrue(railOneAfterBatch - railOneAfterClose <= 1 << 20,
          "rail 1 moved " + (railOneAfterBatch - railOneAfterClose) + " bytes after it was closed");
      TransferBatch read = engine.submit(List.of(TransferRequest.read(local, len, peer.descriptor(), 0, len)));
      join(read);
      assertSameBytes(local, 0, local, len, len);
      assertEquals(railOneAfterBatch, engine.railBytes()[1], "a closed rail carried a later batch");
    }
  }

  @Test
  void peerRailClosedMidBatchIsRetriedOnTheOthers(BufferAllocator allocator) throws Exception {
    requirePeerFaults();
    long len = 48L << 20;
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 4, 1 << 20, Duration.ofSeconds(60));
        Segment local = engine.allocateSegment("local", 2 * len)) {
      fill(local, 0, len, 6);
      TransferBatch batch = engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, len)));
      waitForProgress(engine, batch, 2 << 20);
      peer.closeRail(2);
      join(batch);
      assertEquals(crc(local, 0, len), peer.crc(0, len));
      join(engine.submit(List.of(TransferRequest.read(local, len, peer.descriptor(), 0, len))));
      assertSameBytes(local, 0, local, len, len);
    }
  }

  static void waitForProgress(TransferEngine engine, TransferBatch batch, long bytes) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (java.util.Arrays.stream(engine.railBytes()).sum() < bytes) {
      assertFalse(batch.future().isDone(), "batch finished before the fault was injected; make it larger");
      if (System.nanoTime() > deadline) {
        fail("no progress: " + java.util.Arrays.toString(engine.railBytes()));
      }
      Thread.sleep(1);
    }
  }

  @Test
  void peerVanishingMidTransferFailsWithinTheTimeout(BufferAllocator allocator) throws Exception {
    requirePeerFaults();
    long len = 64L << 20;
    Duration timeout = Duration.ofSeconds(8);
    Peer peer = peer(allocator);
    try (TransferEngine engine = engine(allocator, 2, 256 << 10, timeout);
        Segment local = engine.allocateSegment("local", len)) {
      TransferBatch batch = engine.submit(List.of(
          TransferRequest.write(local, 0, peer.descriptor(), 0, len),
          TransferRequest.read(local, 0, peer.descriptor(), 0, len)));
      waitForProgress(engine, batch, 1 << 20);
      long t0 = System.nanoTime();
      peer.kill();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> batch.future().get(timeout.toMillis() + 5000, TimeUnit.MILLISECONDS));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertInstanceOf(TransferException.class, e.getCause());
      assertTrue(ms < timeout.toMillis() + 3000, "failed only after " + ms + " ms");
      String msg = e.getCause().getMessage();
      assertTrue(msg.contains("no rail left") || msg.contains("timed out") || msg.contains("closed"), msg);
    } finally {
      peer.close();
    }
  }

  /** A peer that stops answering (SIGSTOP) without closing anything: requests end by their timeout. */
  @Test
  void stalledPeerFailsRequestsByTheirTimeout(BufferAllocator allocator) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(remotePeer(), "needs a peer process to stop");
    Peer peer = peer(allocator);
    try (TransferEngine engine = engine(allocator, 2, 64L << 20, Duration.ofSeconds(30));
        Segment local = engine.allocateSegment("local", 16 << 20)) {
      join(engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, 1 << 20))));
      signal(peer.process(), "STOP");
      Duration timeout = Duration.ofMillis(1500);
      long t0 = System.nanoTime();
      TransferBatch batch = engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, 16 << 20),
          TransferRequest.read(local, 0, peer.descriptor(), 0, 4096)), timeout);
      // The request futures fail by their timeout; the batch future follows once the slices already
      // on a rail are released (by the transport's stall detection), so it is bounded too.
      ExecutionException w = assertThrows(
          ExecutionException.class, () -> batch.requests().get(0).get(20, TimeUnit.SECONDS));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertInstanceOf(TransferTimeoutException.class, w.getCause());
      assertTrue(ms < timeout.toMillis() + 3000, "request failed only after " + ms + " ms: " + w.getCause());
      ExecutionException e = assertThrows(ExecutionException.class, () -> batch.future().get(20, TimeUnit.SECONDS));
      long settledMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException ce ? ce.getCause() : e.getCause();
      assertInstanceOf(TransferException.class, cause);
      assertTrue(settledMs < 15_000, "batch settled only after " + settledMs + " ms: " + cause);
      for (CompletableFuture<Void> f : batch.requests()) {
        ExecutionException re = assertThrows(ExecutionException.class, () -> f.get(1, TimeUnit.SECONDS));
        assertInstanceOf(TransferException.class, re.getCause());
      }
    } finally {
      peer.kill();
      peer.close();
    }
  }

  static void signal(ProcessHandle process, String sig) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start();
    assertEquals(0, kill.waitFor(), "kill -" + sig + " failed");
  }

  @Test
  void badRequestsAreRefusedAndNothingOutsideTheSegmentIsWritten(BufferAllocator allocator) throws Exception {
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 2);
        TransferEngine other = engine(allocator, 1);
        Segment local = engine.allocateSegment("local", 1 << 20);
        Segment foreign = other.allocateSegment("foreign", 4096)) {
      fill(local, 0, 1 << 20, 11);
      SegmentDescriptor d = peer.descriptor();
      long n = d.length();
      // Caught at submission: ranges outside the descriptor, another engine's segment, wrong transport.
      assertThrows(IllegalArgumentException.class,
          () -> engine.submit(List.of(TransferRequest.write(local, 0, d, n - 10, 100))));
      assertThrows(IllegalArgumentException.class,
          () -> engine.submit(List.of(TransferRequest.write(foreign, 0, d, 0, 100))));
      assertThrows(IllegalArgumentException.class, () -> TransferRequest.write(local, 0, d, -1, 100));
      assertThrows(IllegalArgumentException.class, () -> TransferRequest.write(local, (1 << 20) - 5, d, 0, 100));
      assertThrows(IllegalArgumentException.class, () -> TransferRequest.write(local, 0, d, 0, 0));
      SegmentDescriptor wrongTransport = new SegmentDescriptor(d.name(), n, d.transport() + "x", d.rails());
      assertThrows(IllegalArgumentException.class,
          () -> engine.submit(List.of(TransferRequest.write(local, 0, wrongTransport, 0, 100))));

      // Caught by the target: a forged length, a forged name and key, a closed segment.
      SegmentDescriptor forgedLength = new SegmentDescriptor(d.name(), n + (1 << 20), d.transport(), d.rails());
      assertRefused(engine.submit(List.of(TransferRequest.write(local, 0, forgedLength, n - 10, 100))));
      assertRefused(engine.submit(List.of(TransferRequest.write(local, 0, forgedLength, n + 4096, 1000))));
      assertRefused(engine.submit(List.of(TransferRequest.read(local, 0, forgedLength, n - 10, 100))));
      List<RailEndpoint> forgedKeys = new ArrayList<>();
      for (RailEndpoint r : d.rails()) {
        forgedKeys.add(new RailEndpoint(r.address(), r.key() + 7777, r.baseAddress()));
      }
      SegmentDescriptor unknown = new SegmentDescriptor("no-such-segment", n, d.transport(), forgedKeys);
      assertRefused(engine.submit(List.of(TransferRequest.write(local, 0, unknown, 0, 100))));
      assertRefused(engine.submit(List.of(TransferRequest.read(local, 0, unknown, 0, 100))));
      assertTrue(peer.guardsIntact(), "a refused request wrote outside the segment");

      // A good request still works after the refusals, then the segment closes and is refused.
      join(engine.submit(List.of(TransferRequest.write(local, 0, d, n - 100, 100))));
      assertEquals(crc(local, 0, 100), peer.crc(n - 100, 100));
      peer.closeSegment();
      assertRefused(engine.submit(List.of(TransferRequest.write(local, 0, d, 0, 100))));
      assertRefused(engine.submit(List.of(TransferRequest.read(local, 0, d, 0, 100))));
      assertTrue(peer.guardsIntact());
    }
  }

  void assertRefused(TransferBatch batch) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> batch.future().get(30, TimeUnit.SECONDS));
    Class<? extends TransferException> expected =
        refusalsAreExplicit() ? TransferRefusedException.class : TransferException.class;
    assertInstanceOf(expected, e.getCause(), () -> "expected a refusal, got " + e.getCause());
  }

  @Test
  void cancelStopsABatchAndTheEngineStaysUsable(BufferAllocator allocator) throws Exception {
    long len = 64L << 20;
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 2, 128 << 10, Duration.ofSeconds(30));
        Segment local = engine.allocateSegment("local", len)) {
      TransferBatch batch = engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, len)));
      assertTrue(batch.cancel());
      ExecutionException e = assertThrows(ExecutionException.class, () -> batch.future().get(30, TimeUnit.SECONDS));
      assertInstanceOf(CancellationException.class, e.getCause());
      assertTrue(batch.requests().get(0).isCancelled());
      long moved = java.util.Arrays.stream(engine.railBytes()).sum();
      assertTrue(moved < len, "cancelled batch moved all " + moved + " bytes");
      fill(local, 0, 1000, 3);
      join(engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 10, 1000))));
      assertEquals(crc(local, 0, 1000), peer.crc(10, 1000));
    }
  }

  @Test
  void closeFailsPendingRequestsAndFreesEverything(BufferAllocator allocator) throws Exception {
    long len = 64L << 20;
    try (Peer peer = peer(allocator)) {
      TransferEngine engine = engine(allocator, 2, 128 << 10, Duration.ofSeconds(30));
      Segment local = engine.allocateSegment("local", len);
      TransferBatch batch = engine.submit(List.of(TransferRequest.write(local, 0, peer.descriptor(), 0, len)));
      engine.close();
      ExecutionException e = assertThrows(ExecutionException.class, () -> batch.future().get(30, TimeUnit.SECONDS));
      assertInstanceOf(TransferException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
      assertFalse(local.isOpen());
      engine.close();
      assertThrows(IllegalStateException.class, () -> engine.allocateSegment("late", 10));
    }
  }

  @Test
  void descriptorSurvivesSerialization(BufferAllocator allocator) throws Exception {
    try (Peer peer = peer(allocator);
        TransferEngine engine = engine(allocator, 1);
        Segment local = engine.allocateSegment("local", 4096)) {
      SegmentDescriptor d = SegmentDescriptor.fromBytes(peer.descriptor().toBytes());
      assertEquals(peer.descriptor(), d);
      assertEquals(PEER_RAILS, d.rails().size());
      assertArrayEquals(d.toBytes(), peer.descriptor().toBytes());
      fill(local, 0, 4096, 1);
      join(engine.submit(List.of(TransferRequest.write(local, 0, d, 0, 4096))));
      assertEquals(crc(local, 0, 4096), peer.crc(0, 4096));
    }
  }
}
