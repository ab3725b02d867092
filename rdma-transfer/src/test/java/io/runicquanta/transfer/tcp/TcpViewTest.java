package io.runicquanta.transfer.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import java.nio.ByteBuffer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.util.MemoryUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The views through which tcp moves payload between sockets and segments: made by the constant
 * method handle (not Arrow's reflective fallback) under the project's JVM flags, over exactly the
 * given bytes, reading and writing the memory itself.
 */
class TcpViewTest {
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension(1L << 20);

  @Test
  void viewIsADirectBufferOverTheGivenBytes(BufferAllocator allocator) {
    assertTrue(TcpTransport.fastViews(), "DirectByteBuffer constructor handle unavailable: --add-opens java.nio missing?");
    try (ArrowBuf buf = allocator.buffer(4096)) {
      for (int i = 0; i < 4096; i++) {
        buf.setByte(i, (byte) (i * 7));
      }
      ByteBuffer v = TcpTransport.view(buf.memoryAddress() + 100, 1000);
      assertTrue(v.isDirect());
      assertEquals(1000, v.capacity());
      assertEquals(0, v.position());
      assertEquals(1000, v.limit());
      assertEquals(buf.memoryAddress() + 100, MemoryUtil.getByteBufferAddress(v));
      for (int i = 0; i < 1000; i++) {
        assertEquals((byte) ((100 + i) * 7), v.get(i));
      }
      v.put(5, (byte) 42);
      assertEquals(42, buf.getByte(105));
    }
  }
}
