package io.runicquanta.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.SplitMix64;
import org.apache.ignite.Ignite;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A stash whose shard writes to one node fail while that node stays in the topology (its segment
 * is closed, so the target refuses every write): every block still has K + h symbols elsewhere, so
 * the object is stored DEGRADED, and the shards that never landed are reported to the master once
 * the object is complete, so that {@code stat} shows them lost without waiting for a reader, and
 * self-healing (off here, to look at the marks) would rebuild them. 4 nodes, local transport, m = 1.
 */
class FailedWriteTest {
  static PluginGrid grid;

  @BeforeAll
  static void start() {
    // ports 45400-45599 (plus the shift)
    grid = PluginGrid.start("fw", 45400, 45500, 4, b -> b.repairIntervalMillis(0));
  }

  @AfterAll
  static void stop() {
    if (grid != null) {
      grid.close();
    }
  }

  @Test
  void shardsWhoseWriteFailedOnALiveNodeAreReportedLost() throws Exception {
    RqStore rq = grid.store(0);
    Ignite victim = grid.nodes.get(3);
    RqPlugin.of(victim).segment().close();

    byte[] d = SplitMix64.bytes(977, 3 * 65536 + 99);
    rq.stash("fw/a", d, StashOptions.defaults());
    ObjectStat st = rq.stat("fw/a");
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (st.lostShards() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      st = rq.stat("fw/a");
    }
    // every block of the 4 parts and the manifest had one shard on the victim (4 shards on 4 nodes)
    assertTrue(st.lostShards() > 0, "the shards that never landed are reported: " + st);
    assertEquals(0, st.tolerableNow(), st.toString());
    assertFalse(st.repairing(), st.toString());
    assertEquals("DEGRADED", st.health(), st.toString());
    assertArrayEquals(d, grid.store(1).revealBytes("fw/a"));
    assertTrue(rq.remove("fw/a"));
  }
}
