package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.layout.ObjectLayout;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The master in-process: it runs on the oldest server node, which is also the primary of its
 * caches' partition; a joining node changes neither; the client finds it through the address cache
 * and follows it when the node hosting it stops, to the next oldest node, which is then the primary;
 * nothing is lost. (The SIGKILL variant with separate processes is {@code MasterFailoverIT}.)
 */
class MasterSingletonTest {

  @Test
  @Timeout(240)
  void masterMovesWhenItsNodeStopsAndKeepsAllMetadata() throws Exception {
    try (TestGrid grid = TestGrid.start("mb-single", 48520, 48620, 3, TestGrid.TEST_CONFIG);
        Ignite clientNode = Ignition.start(LocalGrid.config("mb-single-client", 48520, 48620, 10, 16, true));
        // several connections: failover must replace all of them (calls go round robin, so a
        // connection left on the dead master would fail every third call after the move)
        MasterClient c = MasterClient.connect(clientNode, Duration.ofSeconds(60), 3)) {
      assertEquals(3, c.channels());
      MasterAddress first = c.address();
      for (int i = 0; i < 3; i++) {
        c.mountSegment("seg" + i, "node" + i, "", 16 << 20, "tcp", "127.0.0.1:" + (9000 + i), new byte[0]);
      }
      Map<String, ObjectLayout> stored = new HashMap<>();
      for (int i = 0; i < 20; i++) {
        String key = "keep/" + i;
        ObjectLayout l = c.putStart(key, 50_000 + i * 1000L, 1, 16_384, 512);
        int[] crc = new int[l.shardCount()];
        for (int j = 0; j < crc.length; j++) {
          crc[j] = i * 1000 + j;
        }
        c.putEnd(key, crc);
        stored.put(key, c.getReplicaList(key));
      }
      ObjectLayout open = c.putStart("open", 20_000, 1, 16_384, 512);
      List<String> before = grid.core().checkConsistency();
      assertEquals(List.of(), before);

      Ignite host = grid.masterNode();
      assertEquals(first.nodeId(), host.cluster().localNode().id().toString());
      assertEquals(grid.nodes.get(0), host, "the master runs on the oldest node");
      assertTrue(onPrimary(host), "the master runs on its caches' primary");

      // a joining node is the youngest: neither the master nor the partition moves to it
      Ignite joiner = grid.startServer();
      TestGrid.sleep(1000);
      assertEquals(host, grid.masterNode(), "a joining node does not take the master");
      assertEquals(first, c.address());
      assertTrue(onPrimary(host), "a joining node does not take the partition");
      assertEquals(1, running(grid), "one master runs");
      c.putEnd("open", new int[open.shardCount()]);
      ObjectLayout open2 = c.putStart("open2", 20_000, 1, 16_384, 512);

      Ignite next = grid.nodes.get(1);
      long t0 = System.nanoTime();
      Ignition.stop(host.name(), true);
      grid.nodes.remove(host);

      // the first call after the move waits for the new master, then succeeds
      ObjectLayout again = c.getReplicaList("keep/0");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertNotEquals(first, c.address(), "client follows the master to its new node");
      assertTrue(ms < 30_000, "new master served after " + ms + " ms");
      assertEquals(stored.get("keep/0"), again);
      for (Map.Entry<String, ObjectLayout> e : stored.entrySet()) {
        assertEquals(e.getValue(), c.getReplicaList(e.getKey()), e.getKey());
      }
      c.putEnd("open2", new int[open2.shardCount()]);
      assertEquals(List.of(), grid.core().checkConsistency(), "rebuilt free space matches the caches");
      assertEquals(next, grid.masterNode(), "the next oldest node took over");
      assertNotEquals(joiner, grid.masterNode());
      assertTrue(onPrimary(next), "the new master runs on the new primary");
      assertEquals(1, running(grid), "one master runs");
      assertEquals(3, c.call(s -> s.listSegments(
          io.runicquanta.master.proto.ListSegmentsRequest.getDefaultInstance())).getSegmentsCount());
    }
  }

  private static boolean onPrimary(Ignite node) {
    MasterIgniteService s = node.services().service(MasterIgniteService.NAME);
    return s != null && s.onPrimary();
  }

  /** @return how many nodes of the grid run a master core */
  private static int running(TestGrid grid) {
    int n = 0;
    for (Ignite ig : grid.nodes) {
      MasterIgniteService s = ig.services().service(MasterIgniteService.NAME);
      n += s != null && s.core() != null ? 1 : 0;
    }
    return n;
  }
}
