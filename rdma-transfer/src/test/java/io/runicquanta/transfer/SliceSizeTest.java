package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
  void aBatchOfManyRequestsKeepsWholeRequestsOnTheRails(BufferAllocator allocator) {
    try (DefaultTransferEngine e = engine(allocator, 4, 64L << 20, 0)) {
      // 32 x 1 MiB on 4 rails: 8 MiB per rail, so the transport's 1 MiB is the slice
      assertEquals(1 << 20, e.sliceFor(1L << 20, 32L << 20));
      // 2 x 1 MiB on 4 rails: half a MiB per rail
      assertEquals(512 << 10, e.sliceFor(1L << 20, 2L << 20));
      // a small request in a large batch stays one slice (the bound is above its length)
      assertTrue(e.sliceFor(100, 32L << 20) >= 100);
    }
    // the in-flight bound still caps it
    try (DefaultTransferEngine e = engine(allocator, 4, 1L << 20, 0)) {
      assertEquals(128 << 10, e.sliceFor(1L << 20, 32L << 20));
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
