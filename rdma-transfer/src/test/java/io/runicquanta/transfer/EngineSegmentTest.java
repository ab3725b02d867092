package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Segment life cycle and ownership, on the local transport. */
class EngineSegmentTest {
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension();

  @Test
  void callerOwnedMemoryStaysWithTheCallerAndEngineMemoryIsFreed(BufferAllocator allocator) {
    try (ArrowBuf mine = allocator.buffer(4096);
        TransferEngine engine = TransferEngine.builder().allocator(allocator).build()) {
      Segment reg = engine.registerSegment("mine", mine);
      Segment owned = engine.allocateSegment("owned", 1 << 20);
      assertEquals(4096, reg.length());
      assertEquals(mine.memoryAddress(), reg.address());
      assertEquals((1 << 20) + 4096, allocator.getAllocatedMemory());
      assertThrows(IllegalArgumentException.class, () -> engine.allocateSegment("owned", 10));
      assertThrows(IllegalArgumentException.class, () -> engine.allocateSegment("zero", 0));
      owned.close();
      owned.close();
      assertFalse(owned.isOpen());
      assertEquals(4096, allocator.getAllocatedMemory());
      Segment again = engine.allocateSegment("owned", 10);
      assertTrue(again.isOpen());
      reg.close();
      assertEquals(1, mine.refCnt());
      assertThrows(IllegalArgumentException.class,
          () -> engine.submit(List.of(TransferRequest.write(reg, 0, again.descriptor(), 0, 1))));
    }
  }
}
