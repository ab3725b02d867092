package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The tcp transport moves payload between sockets and registered memory without the Java heap: heap
 * bytes allocated by every thread of both sides (same JVM) while moving 256 MiB stay far below the
 * payload. Per-slice bookkeeping (futures, small views) is allowed; the payload is not.
 */
class TcpHeapAllocationTest {
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension(2L << 30);

  static long allocatedByAllThreads() {
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long id : mx.getAllThreadIds()) {
      long b = mx.getThreadAllocatedBytes(id);
      if (b > 0) {
        sum += b;
      }
    }
    return sum;
  }

  @Test
  void payloadDoesNotGoThroughTheHeap(BufferAllocator allocator) throws Exception {
    long seg = 32L << 20;
    long moved = 256L << 20;
    try (Peer peer = Peer.inJvm(allocator, "tcp", 2, Map.of(), seg);
        TransferEngine engine = TransferEngine.builder().allocator(allocator).transport("tcp").rails(2).build();
        Segment local = engine.allocateSegment("local", seg)) {
      List<TransferRequest> round = List.of(
          TransferRequest.write(local, 0, peer.descriptor(), 0, seg),
          TransferRequest.read(local, 0, peer.descriptor(), 0, seg));
      engine.submit(round).future().get(60, TimeUnit.SECONDS); // warm up: connections and threads exist
      long before = allocatedByAllThreads();
      for (long done = 0; done < moved; done += 2 * seg) {
        engine.submit(round).future().get(60, TimeUnit.SECONDS);
      }
      long heap = allocatedByAllThreads() - before;
      assertTrue(heap < moved / 16,
          "heap allocated while moving " + moved + " bytes over tcp: " + heap + " bytes (limit " + (moved / 16) + ")");
      System.out.println("tcp: heap bytes allocated per 256 MiB moved: " + heap);
    }
  }
}
