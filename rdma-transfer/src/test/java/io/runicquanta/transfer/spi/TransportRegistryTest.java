package io.runicquanta.transfer.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.transfer.TransferEngine;
import io.runicquanta.transfer.TransportUnavailableException;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TransportRegistryTest {
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension();

  static TransportProvider provider(String name, Throwable unavailable) {
    return new TransportProvider() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Throwable unavailabilityCause() {
        return unavailable;
      }

      @Override
      public Transport open(TransportContext context) {
        throw new AssertionError("must not open an unavailable transport");
      }
    };
  }

  @Test
  void serviceLoaderFindsTheThreeTransports() {
    assertEquals(java.util.List.of("local", "tcp", "fabric"), TransportRegistry.fromServiceLoader().names());
  }

  @Test
  void rejectsDuplicateNamesAndUnknownOnes() {
    TransportRegistry r = new TransportRegistry();
    r.register(provider("x", null));
    IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> r.register(provider("x", null)));
    assertTrue(dup.getMessage().contains("duplicate transport name 'x'"), dup.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> r.provider("y"));
    assertTrue(unknown.getMessage().contains("unknown transport 'y', known: [x]"), unknown.getMessage());
  }

  @Test
  void unavailableTransportFailsAtBuildWithItsCause(BufferAllocator allocator) {
    TransportRegistry r = new TransportRegistry();
    r.register(provider("absent", new UnsatisfiedLinkError("libabsent.so not found")));
    TransportUnavailableException e = assertThrows(TransportUnavailableException.class,
        () -> TransferEngine.builder().allocator(allocator).registry(r).transport("absent").build());
    assertTrue(e.getMessage().contains("libabsent.so not found"), e.getMessage());
    assertTrue(e.getCause() instanceof UnsatisfiedLinkError);
  }

  @Test
  void builderRejectsBadValues() {
    assertThrows(IllegalArgumentException.class, () -> TransferEngine.builder().rails(0));
    assertThrows(IllegalArgumentException.class, () -> TransferEngine.builder().sliceBytes(100));
    assertThrows(IllegalArgumentException.class, () -> TransferEngine.builder().maxBytesInFlight(0));
    assertThrows(IllegalArgumentException.class, () -> TransferEngine.builder().requestTimeout(java.time.Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> TransferEngine.builder().build());
  }
}
