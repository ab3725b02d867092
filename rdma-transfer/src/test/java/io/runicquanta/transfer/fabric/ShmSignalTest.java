package io.runicquanta.transfer.fabric;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.TestEnv;
import io.runicquanta.transfer.RailEndpoint;
import io.runicquanta.transfer.Segment;
import io.runicquanta.transfer.TransferEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/**
 * The {@code shm} provider's shared-memory regions survive a {@code SIGSEGV} that the JVM takes and
 * handles itself (an implicit null check in compiled code). Before the fix in {@link
 * LibFabric#keepingJvmSignalHandlers}, shm's own handler ran first and unlinked the regions' names
 * from {@code /dev/shm}, after which no new peer could connect to this process (its {@code
 * fi_write}/{@code fi_read} returned {@code -FI_EAGAIN} forever).
 */
class ShmSignalTest {
  static int length(int[] a) {
    return a.length;
  }

  @Test
  void regionsSurviveJvmHandledSegv() throws Exception {
    Throwable cause = FabricTransportProvider.unavailabilityCause("shm");
    TestEnv.requireOrSkip(cause == null, "libfabric provider shm unavailable: " + cause);
    try (RootAllocator root = new RootAllocator();
        TransferEngine engine = TransferEngine.builder().allocator(root).transport("fabric").rails(2)
            .option("fabric.provider", "shm").build();
        Segment segment = engine.allocateSegment("s", 4096)) {
      List<Path> regions = new ArrayList<>();
      for (RailEndpoint r : segment.descriptor().rails()) {
        String name = new String(r.address(), StandardCharsets.US_ASCII).replace("\0", "");
        // shm names its region file after the endpoint name without the "fi_shm://" prefix.
        name = name.startsWith("fi_shm://") ? name.substring("fi_shm://".length()) : name;
        assertFalse(name.contains("/"), name);
        Path p = Path.of("/dev/shm", name);
        assertTrue(Files.exists(p), () -> "shm region " + p + " missing right after the engine started");
        regions.add(p);
      }
      // Compile length() (C2 uses an implicit null check: a SIGSEGV the JVM turns into an NPE), then fault.
      int[] a = new int[3];
      long sum = 0;
      for (int i = 0; i < 300_000; i++) {
        sum += length(a);
      }
      int npes = 0;
      for (int i = 0; i < 20; i++) {
        try {
          sum += length(i < 0 ? a : null);
        } catch (NullPointerException e) {
          npes++;
        }
      }
      System.gc();
      assertTrue(npes == 20 && sum > 0);
      for (Path p : regions) {
        assertTrue(Files.exists(p), () -> "shm region " + p + " was unlinked after a JVM-handled SIGSEGV");
      }
    }
  }
}
