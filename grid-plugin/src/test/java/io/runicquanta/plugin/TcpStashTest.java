package io.runicquanta.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.SplitMix64;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The same data path over the {@code tcp} transport (3 in-process nodes, real sockets). */
class TcpStashTest {
  static PluginGrid grid;

  @BeforeAll
  static void start() {
    grid = PluginGrid.start("tcp", 44600, 44700, 3, b -> b.transport("tcp"));
  }

  @AfterAll
  static void stop() {
    if (grid != null) {
      grid.close();
    }
  }

  @Test
  void roundTripsAndNodeLossOverTcp() throws Exception {
    assertEquals("tcp", RqPlugin.of(grid.nodes.get(0)).engine().transport());
    RqStore rq = grid.store(0);
    int[] sizes = {1, 65535, 65536, 65537, 400_000};
    for (int n : sizes) {
      byte[] d = SplitMix64.bytes(n + 1, n);
      rq.stash("tcp/" + n, new ByteArrayInputStream(d), StashOptions.defaults());
      try (InputStream in = grid.store(1).reveal("tcp/" + n)) {
        assertArrayEquals(d, in.readAllBytes(), "size " + n);
      }
    }
    assertTrue(rq.remove("tcp/1"));
    Ignition.stop(grid.nodes.get(2).name(), true);
    grid.nodes.remove(2);
    byte[] d = SplitMix64.bytes(400_001, 400_000);
    try (InputStream in = grid.store(1).reveal("tcp/400000")) {
      assertArrayEquals(d, in.readAllBytes(), "after a node stopped");
    }
    assertEquals("DEGRADED", rq.stat("tcp/400000").health());
  }
}
