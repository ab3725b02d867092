package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.TestEnv;
import io.runicquanta.transfer.fabric.FabricTransportProvider;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Slice sizes the fabric transport asks for: 1 MiB on {@code shm} (whose reads in libfabric 1.17 go
 * through bounce buffers one operation at a time per endpoint and peer, so a 64 KiB slice costs a
 * whole hand-over between the processes; rdma-transfer/README.md "shm reads"), 64 KiB on other
 * providers, {@code fabric.sliceBytes} when set; bad values refused.
 */
class FabricSliceSizeTest {
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension();

  static DefaultTransferEngine engine(BufferAllocator allocator, String provider, String sliceBytes) {
    Throwable cause = FabricTransportProvider.unavailabilityCause(provider);
    TestEnv.requireOrSkip(cause == null, "libfabric provider " + provider + " unavailable: " + cause);
    TransferEngineBuilder b = TransferEngine.builder().allocator(allocator).transport("fabric").rails(1)
        .option("fabric.provider", provider);
    if (sliceBytes != null) {
      b.option("fabric.sliceBytes", sliceBytes);
    }
    return (DefaultTransferEngine) b.build();
  }

  @Test
  void shmSlicesAreOneMebibyte(BufferAllocator allocator) {
    try (DefaultTransferEngine e = engine(allocator, "shm", null)) {
      assertEquals(1 << 20, e.sliceFor(16L << 20));
      assertEquals(1 << 20, e.sliceFor(1 << 20));
      assertEquals(64 << 10, e.sliceFor(64 << 10));
    }
  }

  @Test
  void otherProvidersKeep64KiB(BufferAllocator allocator) {
    try (DefaultTransferEngine e = engine(allocator, "tcp;ofi_rxm", null)) {
      assertEquals(64 << 10, e.sliceFor(16L << 20));
    }
  }

  @Test
  void optionOverridesTheDefault(BufferAllocator allocator) {
    try (DefaultTransferEngine e = engine(allocator, "shm", "262144")) {
      assertEquals(256 << 10, e.sliceFor(16L << 20));
    }
    try (DefaultTransferEngine e = engine(allocator, "shm", "65536")) {
      assertEquals(64 << 10, e.sliceFor(16L << 20));
    }
  }

  @Test
  void badValuesAreRefused(BufferAllocator allocator) {
    for (String bad : new String[] {"abc", "100", "2147483648"}) {
      Throwable t = assertThrows(RuntimeException.class, () -> engine(allocator, "shm", bad).close());
      StringBuilder all = new StringBuilder();
      for (Throwable c = t; c != null; c = c.getCause()) {
        all.append(c.getMessage()).append(" | ");
      }
      assertTrue(all.toString().contains("fabric.sliceBytes"), all::toString);
    }
  }
}
