package io.runicquanta.transfer.fabric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.TestEnv;
import io.runicquanta.transfer.TransferEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code /dev/shm} regions of dead processes are removed when a {@code shm} transport starts, and
 * nothing else is: not a live process's, not this process's, not files of another form.
 */
class ShmRegionsTest {
  @RegisterExtension final AllocatorExtension allocators = new AllocatorExtension();

  /** The pid of a process that has exited (checked not to have been reused). */
  static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    assertEquals(0, p.waitFor());
    long pid = p.pid();
    assertTrue(ProcessHandle.of(pid).isEmpty(), "pid " + pid + " was reused at once");
    return pid;
  }

  @Test
  void removesOnlyRegionsOfDeadProcesses(@TempDir Path dir) throws Exception {
    long dead = deadPid();
    long self = ProcessHandle.current().pid();
    long live = ProcessHandle.current().parent().map(ProcessHandle::pid).orElseThrow();
    Path stale0 = Files.write(dir.resolve(dead + ":0:0"), new byte[4096]);
    Path stale1 = Files.write(dir.resolve(dead + ":0:1"), new byte[100]);
    Path mine = Files.write(dir.resolve(self + ":0:0"), new byte[10]);
    Path alive = Files.write(dir.resolve(live + ":0:0"), new byte[10]);
    Path other = Files.write(dir.resolve(dead + ":0:x"), new byte[10]);
    Path otherName = Files.write(dir.resolve("arrow-" + dead), new byte[10]);
    Files.createDirectory(dir.resolve(dead + ":1:0"));

    ShmRegions.Reaped r = ShmRegions.reapStale(dir);

    assertEquals(new ShmRegions.Reaped(2, 4196), r);
    assertFalse(Files.exists(stale0));
    assertFalse(Files.exists(stale1));
    assertTrue(Files.exists(mine));
    assertTrue(Files.exists(alive));
    assertTrue(Files.exists(other));
    assertTrue(Files.exists(otherName));
    assertTrue(Files.isDirectory(dir.resolve(dead + ":1:0")));
    assertEquals(new ShmRegions.Reaped(0, 0), ShmRegions.reapStale(dir), "second pass finds nothing");
    assertEquals(new ShmRegions.Reaped(0, 0), ShmRegions.reapStale(dir.resolve("missing")));
  }

  @Test
  void anShmTransportRemovesStaleRegionsAtStartUnlessTurnedOff(BufferAllocator allocator) throws Exception {
    Throwable cause = FabricTransportProvider.unavailabilityCause("shm");
    TestEnv.requireOrSkip(cause == null, "libfabric provider shm unavailable: " + cause);
    Path shm = Path.of("/dev/shm");
    Path stale = Files.write(shm.resolve(deadPid() + ":0:0"), new byte[8192]);
    try {
      try (TransferEngine e = TransferEngine.builder().allocator(allocator).transport("fabric").rails(1)
          .option("fabric.provider", "shm").option("fabric.shmReapStale", "false").build()) {
        assertTrue(Files.exists(stale), "fabric.shmReapStale=false keeps stale regions");
      }
      java.util.Set<String> before = own(shm);
      try (TransferEngine e = TransferEngine.builder().allocator(allocator).transport("fabric").rails(2)
          .option("fabric.provider", "shm").build()) {
        assertFalse(Files.exists(stale), "a starting shm transport removes a dead process's region");
        java.util.Set<String> during = own(shm);
        during.removeAll(before);
        assertEquals(2, during.size(), "one region per rail while open: " + during);
      }
      assertEquals(before, own(shm), "a closed engine's regions are gone (libfabric unlinks them at fi_close)");
    } finally {
      Files.deleteIfExists(stale);
    }
  }

  /** This process's region files in {@code dir}. */
  static java.util.Set<String> own(Path dir) throws java.io.IOException {
    String prefix = ProcessHandle.current().pid() + ":";
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix))
          .collect(java.util.stream.Collectors.toCollection(java.util.HashSet::new));
    }
  }

  @Test
  void badOptionValueIsRefusedByName() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FabricTransport.reapStaleShm("yes"));
    assertTrue(e.getMessage().contains("fabric.shmReapStale"), e.getMessage());
    assertTrue(FabricTransport.reapStaleShm(null));
    assertTrue(FabricTransport.reapStaleShm("TRUE"));
    assertFalse(FabricTransport.reapStaleShm("false"));
  }
}
