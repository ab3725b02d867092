package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The tcp target keeps the last segment name it decoded on a connection and reuses it when the next
 * request's name bytes are equal (and the initiator keeps the last name's bytes): requests that
 * alternate between segments whose names differ in one byte, on one connection, must still land in
 * their own segment, and a closed segment must still be refused by name.
 */
class TcpSegmentNamesTest {
  static final long BYTES = 1L << 20;
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension(1L << 30);

  @Test
  void alternatingNamesOnOneConnectionLandInTheirOwnSegments(BufferAllocator allocator) throws Exception {
    try (TransferEngine target = TransferEngine.builder().allocator(allocator).transport("tcp").rails(1).build();
        TransferEngine engine = TransferEngine.builder().allocator(allocator).transport("tcp").rails(1)
            .requestTimeout(Duration.ofSeconds(30)).build();
        Segment a = target.allocateSegment("segA", BYTES);
        Segment b = target.allocateSegment("segB", BYTES);
        Segment c = target.allocateSegment("xegA", BYTES);
        Segment local = engine.allocateSegment("local", 6 * BYTES)) {
      Segment[] remote = {a, b, c};
      for (int i = 0; i < 3; i++) {
        AbstractTransportContractTest.fill(local, i * BYTES, BYTES, 11 + i);
      }
      // WRITEs and READs interleaved over the three segments, 4 KiB each, in one batch per op.
      List<TransferRequest> writes = new ArrayList<>();
      List<TransferRequest> reads = new ArrayList<>();
      int chunk = 4096;
      for (long off = 0; off < BYTES; off += chunk) {
        for (int i = 0; i < 3; i++) {
          writes.add(TransferRequest.write(local, i * BYTES + off, remote[i].descriptor(), off, chunk));
          reads.add(TransferRequest.read(local, (3 + i) * BYTES + off, remote[i].descriptor(), off, chunk));
        }
      }
      engine.submit(writes).future().get(30, TimeUnit.SECONDS);
      engine.submit(reads).future().get(30, TimeUnit.SECONDS);
      for (int i = 0; i < 3; i++) {
        AbstractTransportContractTest.assertSameBytes(local, i * BYTES, remote[i], 0, BYTES);
        AbstractTransportContractTest.assertSameBytes(local, i * BYTES, local, (3 + i) * BYTES, BYTES);
      }
      // segB closed: a READ of it between READs of segA on the same connection is refused by name.
      SegmentDescriptor bd = b.descriptor();
      b.close();
      List<TransferRequest> mixed = List.of(
          TransferRequest.read(local, 0, a.descriptor(), 0, chunk),
          TransferRequest.read(local, chunk, bd, 0, chunk),
          TransferRequest.read(local, 2 * chunk, a.descriptor(), chunk, chunk));
      TransferBatch m = engine.submit(mixed);
      m.requests().get(0).get(30, TimeUnit.SECONDS);
      m.requests().get(2).get(30, TimeUnit.SECONDS);
      ExecutionException e = assertThrows(ExecutionException.class, () -> m.requests().get(1).get(30, TimeUnit.SECONDS));
      assertInstanceOf(TransferRefusedException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("segB"), e.getCause().getMessage());
    }
  }
}
