package io.runicquanta.transfer;

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
 * The tcp tuning options ({@code tcp.sendBuffer}, {@code tcp.receiveBuffer}, {@code
 * tcp.responseBytes}): data still byte-exact with small socket buffers and a small response flush
 * threshold on both sides, and out-of-range values refused with a message naming the option.
 */
class TcpOptionsTest {
  static final long PEER_BYTES = 8L << 20;
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension(1L << 30);

  @Test
  void smallBuffersAndFlushThresholdKeepDataExact(BufferAllocator allocator) throws Exception {
    Map<String, String> opts = Map.of("tcp.sendBuffer", "65536", "tcp.receiveBuffer", "65536",
        "tcp.responseBytes", "65536");
    TransferEngineBuilder b = TransferEngine.builder().allocator(allocator).transport("tcp").rails(2)
        .requestTimeout(Duration.ofSeconds(30));
    opts.forEach(b::option);
    try (Peer peer = Peer.inJvm(allocator, "tcp", 2, opts, PEER_BYTES);
        TransferEngine engine = b.build();
        Segment local = engine.allocateSegment("local", PEER_BYTES)) {
      SegmentDescriptor d = peer.descriptor();
      AbstractTransportContractTest.fill(local, 0, PEER_BYTES / 2, 21);
      List<TransferRequest> writes = new ArrayList<>();
      List<TransferRequest> reads = new ArrayList<>();
      int[] sizes = {65536, 1 << 20, 4099, 65536, 1};
      long off = 0;
      for (int i = 0; off + (1 << 20) <= PEER_BYTES / 2; i++) {
        int len = sizes[i % sizes.length];
        writes.add(TransferRequest.write(local, off, d, off, len));
        reads.add(TransferRequest.read(local, PEER_BYTES / 2 + off, d, off, len));
        off += len;
      }
      engine.submit(writes).future().get(60, TimeUnit.SECONDS);
      engine.submit(reads).future().get(60, TimeUnit.SECONDS);
      AbstractTransportContractTest.assertSameBytes(local, 0, local, PEER_BYTES / 2, off);
      assertTrue(peer.guardsIntact());
    }
  }

  @Test
  void badOptionsAreRefused(BufferAllocator allocator) {
    for (Map.Entry<String, String> bad : List.of(Map.entry("tcp.sendBuffer", "-1"),
        Map.entry("tcp.receiveBuffer", "-5"), Map.entry("tcp.responseBytes", "0"))) {
      RuntimeException e = assertThrows(RuntimeException.class, () -> TransferEngine.builder().allocator(allocator)
          .transport("tcp").rails(2).option(bad.getKey(), bad.getValue()).build());
      String msg = e.getMessage() + (e.getCause() == null ? "" : " / " + e.getCause().getMessage());
      assertTrue(msg.contains(bad.getKey()), msg);
    }
  }
}
