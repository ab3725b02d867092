package io.runicquanta.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.layout.BlockLayout;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import io.runicquanta.master.MasterCaches;
import io.runicquanta.testing.SplitMix64;
import java.util.Locale;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Self-healing, in one JVM: 5 server nodes, local transport, m = 1, a repair cap of 1 MiB/s. A
 * node stops; the object is then DEGRADED with tolerance 0 (a second loss would lose data); the
 * repairer on the master's node writes new repair symbols (fresh ESIs) at no more than the cap;
 * the object is HEALTHY again; a second node stops and the object still comes back byte-identical.
 * Then a shard corrupted on a live node: the reader reports it, the repairer replaces it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
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
  @Order(1)
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

  /** The node whose segment has this name. */
  static Ignite owner(String segment) {
    for (Ignite n : grid.nodes) {
      RqPlugin p = RqPlugin.of(n);
      if (p.segment() != null && p.segment().name().equals(segment)) {
        return n;
      }
    }
    throw new AssertionError("no live node holds segment " + segment);
  }

  /**
   * A source shard of a part is damaged in its (live) node's segment: a reveal is still correct,
   * the reader reports the shard to the master, and the repairer replaces it with new repair
   * symbols (fresh ESIs), so the object is back at full tolerance and the bad shard is gone from
   * the placement. Runs after the node-loss test (3 nodes left).
   */
  @Test
  @Order(2)
  void aShardFailingItsChecksOnALiveNodeIsReportedAndRebuilt() throws Exception {
    GridStore rq = (GridStore) grid.store(0);
    byte[] d = SplitMix64.bytes(503, 3 * 65536 + 99);
    rq.stash("scrub/a", d, StashOptions.defaults());
    Manifest mf = rq.manifest("scrub/a");
    String part = mf.partKey(1);
    BlockLayout b0 = rq.master.getReplicaList(part).blocks().get(0);
    ShardLayout bad = b0.shards().stream().filter(s -> s.firstEsi() == 0).findFirst().orElseThrow();
    int maxEsi = 0;
    for (ShardLayout s : b0.shards()) {
      maxEsi = Math.max(maxEsi, s.firstEsi() + s.esiCount());
    }
    var seg = RqPlugin.of(owner(bad.segment())).segment().buffer();
    long at = bad.offset() + ShardLayout.HEADER_BYTES + 17;
    seg.setByte(at, seg.getByte(at) ^ 0x10);
    ObjectStat s0 = rq.stat("scrub/a");
    assertEquals("HEALTHY", s0.health(), "nobody has read the shard yet: " + s0);

    // a reader on another node finds it, decodes around it, and reports it
    GridStore reader = (GridStore) grid.store(1);
    assertArrayEquals(d, reader.revealBytes("scrub/a"));
    assertTrue(reader.badShards().contains(GridStore.badKey(bad)), reader.badShards().toString());

    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      ObjectLayout now = rq.master.getReplicaList(part);
      boolean stillThere = now.blocks().get(0).shards().stream()
          .anyMatch(s -> s.segment().equals(bad.segment()) && s.offset() == bad.offset());
      ObjectStat st = rq.stat("scrub/a");
      if (!stillThere) {
        assertEquals(0, st.lostShards(), st.toString());
        assertEquals(1, st.tolerableNow(), st.toString());
        assertEquals("HEALTHY", st.health(), st.toString());
        assertFalse(st.repairing(), st.toString());
        boolean fresh = false;
        for (ShardLayout s : now.blocks().get(0).shards()) {
          fresh |= s.firstEsi() >= maxEsi;
        }
        assertTrue(fresh, "new repair symbols have fresh ESIs: " + now.blocks().get(0).shards());
        break;
      }
      assertTrue(System.nanoTime() < deadline, "the corrupt shard was not replaced in 60 s: " + st);
      Thread.sleep(100);
    }
    // every node reads it, now through the rebuilt shard set
    for (int i = 0; i < grid.nodes.size(); i++) {
      assertArrayEquals(d, grid.store(i).revealBytes("scrub/a"), "from node " + i);
    }
    assertTrue(rq.remove("scrub/a"));
  }
}
