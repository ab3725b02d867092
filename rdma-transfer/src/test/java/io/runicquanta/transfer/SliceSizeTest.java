package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.runicquanta.testing.AllocatorExtension;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How the engine cuts requests into slices when the builder leaves {@code sliceBytes} to the transport. */
class SliceSizeTest {
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension();

  static DefaultTransferEngine engine(BufferAllocator allocator, int rails, long inFlight, int sliceBytes) {
    TransferEngineBuilder b = TransferEngine.builder().allocator(allocator).transport("local").rails(rails)
        .maxBytesInFlight(inFlight);
    if (sliceBytes > 0) {
      b.sliceBytes(sliceBytes);
    }
    return (DefaultTransferEngine) b.build();
  }

  @Test
  void transportPreferenceCapsLargeRequests(BufferAllocator allocator) {
    try (DefaultTransferEngine e = engine(allocator, 1, 64L << 20, 0)) {
      assertEquals(1 << 20, e.sliceFor(16L << 20));
      assertEquals(1 << 20, e.sliceFor(1L << 30));
    }
  }

  @Test
  void aRequestIsCutIntoAtLeastOneSlicePerRail(BufferAllocator allocator) {
    try (DefaultTransferEngine e = engine(allocator, 4, 64L << 20, 0)) {
      assertEquals(256 << 10, e.sliceFor(1L << 20));
      // a rail's share, rounded up to 4 KiB
      assertEquals(260 << 10, e.sliceFor((1L << 20) + 4 * 4096 - 3));
      // never below 64 KiB: small requests are one slice
      assertEquals(64 << 10, e.sliceFor(100));
    }
  }

  @Test
  void twoSlicesPerRailFitInTheInFlightBound(BufferAllocator allocator) {
    try (DefaultTransferEngine e = engine(allocator, 4, 1L << 20, 0)) {
      assertEquals(128 << 10, e.sliceFor(48L << 20));
    }
    try (DefaultTransferEngine e = engine(allocator, 2, 128L << 10, 0)) {
      assertEquals(64 << 10, e.sliceFor(64L << 20));
    }
  }

  @Test
  void anExplicitSliceSizeIsUsedAsIs(BufferAllocator allocator) {
    try (DefaultTransferEngine e = engine(allocator, 4, 64L << 20, 8192)) {
      assertEquals(8192, e.sliceFor(16L << 20));
      assertEquals(8192, e.sliceFor(100));
    }
  }
}
