package io.runicquanta.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.master.MasterCaches;
import io.runicquanta.testing.SplitMix64;
import java.util.Locale;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Self-healing, in one JVM: 5 server nodes, local transport, m = 1, a repair cap of 1 MiB/s. A
 * node stops; the object is then DEGRADED with tolerance 0 (a second loss would lose data); the
 * repairer on the master's node writes new repair symbols (fresh ESIs) at no more than the cap;
 * the object is HEALTHY again; a second node stops and the object still comes back byte-identical.
 */
class RepairTest {
  static final long CAP = 1L << 20;
  static PluginGrid grid;

  @BeforeAll
  static void start() {
    // ports 45000-45199 (plus the shift): clear of gp-core's tests and the benchmark's 44800-44999
    grid = PluginGrid.start("rpr", 45000, 45100, 5,
        b -> b.repairIntervalMillis(200).repairBytesPerSecond(CAP));
  }

  @AfterAll
  static void stop() {
    if (grid != null) {
      grid.close();
    }
  }

  static Ignite masterHost() {
    String id = MasterCaches.address(grid.nodes.get(0)).get(MasterCaches.ADDRESS_KEY).nodeId();
    for (Ignite n : grid.nodes) {
      if (n.cluster().localNode().id().toString().equals(id)) {
        return n;
      }
    }
    throw new AssertionError("master host not among the nodes");
  }

  /** A node that is neither node 0 (the caller) nor the master's host. */
  static Ignite victim() {
    Ignite m = masterHost();
    for (int i = grid.nodes.size() - 1; i > 0; i--) {
      if (grid.nodes.get(i) != m) {
        return grid.nodes.get(i);
      }
    }
    throw new AssertionError("no victim");
  }

  static void stopNode(Ignite n) {
    grid.nodes.remove(n);
    Ignition.stop(n.name(), true);
  }

  static void setPaused(boolean p) {
    for (Ignite n : grid.nodes) {
      RqPlugin.of(n).repairer().paused = p;
    }
  }

  @Test
  void repairRestoresToleranceSoASecondNodeLossIsSurvived() throws Exception {
    RqStore rq = grid.store(0);
    byte[] big = SplitMix64.bytes(501, 12 * 65536 * 16 + 12345); // 193 parts of 64 KiB
    byte[] small = SplitMix64.bytes(502, 777);
    rq.stash("heal/big", big, StashOptions.defaults());
    rq.stash("heal/small", small, StashOptions.defaults());
    ObjectStat s0 = rq.stat("heal/big");
    assertEquals("HEALTHY", s0.health(), s0.toString());
    assertEquals(1, s0.tolerableNow());

    Ignite master = masterHost();
    RqPlugin mp = RqPlugin.of(master);
    Repairer rep = mp.repairer();
    long memBefore = mp.allocator().getAllocatedMemory();

    setPaused(true);
    stopNode(victim());
    ObjectStat s1 = rq.stat("heal/big");
    assertTrue(s1.lostShards() > 0, s1.toString());
    // without repair a second node loss would lose data: tolerance 0 < m = 1
    assertEquals(0, s1.tolerableNow(), s1.toString());
    assertEquals("DEGRADED", s1.health());
    assertFalse(s1.repairing(), s1.toString());
    assertTrue(rq.status().degradedObjects() >= 2, rq.status().toString());

    long t0 = System.nanoTime();
    setPaused(false);
    boolean sawRepairing = false;
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (true) {
      ObjectStat s = rq.stat("heal/big");
      sawRepairing |= s.repairing();
      if (s.lostShards() == 0 && rq.stat("heal/small").lostShards() == 0) {
        assertEquals("HEALTHY", s.health(), s.toString());
        assertEquals(1, s.tolerableNow(), s.toString());
        break;
      }
      assertTrue(System.nanoTime() < deadline, "not repaired in 120 s: " + s);
      Thread.sleep(100);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    double span = (rep.lastWriteNanos - rep.firstWriteNanos) / 1e9;
    long bytes = rep.bytesWritten.get();
    double rate = bytes / span;
    System.out.printf(Locale.ROOT,
        "repair: %d objects, %d new shards, %d bytes written in %.2f s of writing (%.2f s to"
            + " healthy): %.2f MiB/s, cap %.2f MiB/s; 'repairing' seen: %s%n",
        rep.objectsRepaired.get(), rep.shardsWritten.get(), bytes, span, secs,
        rate / (1 << 20), CAP / (double) (1 << 20), sawRepairing);
    assertTrue(span > 2.0, "the repair should take a few seconds at the cap, took " + span);
    assertTrue(rate <= CAP * 1.2, "repair wrote " + rate + " B/s, cap " + CAP);
    assertEquals(0, rep.failures.get());
    // repair work memory comes back to the node's allocator (a pass may still be finishing)
    long memDeadline = System.nanoTime() + 10_000_000_000L;
    while (mp.allocator().getAllocatedMemory() != memBefore && System.nanoTime() < memDeadline) {
      Thread.sleep(50);
    }
    assertEquals(memBefore, mp.allocator().getAllocatedMemory(),
        () -> "repair memory not freed:\n" + mp.allocator().toVerboseString());
    assertEquals(0, rq.status().degradedObjects(), rq.status().toString());

    // a second node: 2 losses > m = 1, survived thanks to the repair
    stopNode(victim());
    assertArrayEquals(big, grid.store(0).revealBytes("heal/big"));
    assertArrayEquals(small, grid.store(1).revealBytes("heal/small"));
    assertTrue(rq.remove("heal/big"));
    assertTrue(rq.remove("heal/small"));
  }
}
