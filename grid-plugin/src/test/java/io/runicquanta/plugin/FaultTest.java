package io.runicquanta.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import io.runicquanta.testing.SplitMix64;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.UUID;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Corrupted shards and stopped nodes (4 nodes, local transport, m = 1). */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultTest {
  static PluginGrid grid;

  @BeforeAll
  static void start() {
    // self-healing off: these tests look at objects while they are degraded (RepairTest heals)
    grid = PluginGrid.start("flt", 44400, 44500, 4, b -> b.repairIntervalMillis(0));
  }

  @AfterAll
  static void stop() {
    if (grid != null) {
      grid.close();
    }
  }

  static GridStore store(int i) {
    return (GridStore) grid.store(i);
  }

  /** The node whose segment has this name. */
  static Ignite owner(String segment) {
    for (Ignite n : grid.nodes) {
      RqPlugin p = RqPlugin.of(n);
      if (p.segment() != null && p.segment().name().equals(segment)) {
        return n;
      }
    }
    throw new AssertionError("no node holds segment " + segment);
  }

  static byte[] reveal(RqStore rq, String key) throws Exception {
    try (InputStream in = rq.reveal(key)) {
      return in.readAllBytes();
    }
  }

  @Test
  @Order(1)
  void corruptedShardsAreErasuresNeverData() throws Exception {
    GridStore rq = store(0);
    byte[] data = SplitMix64.bytes(77, 3 * 65536 + 100);
    rq.stash("c/1", new ByteArrayInputStream(data), StashOptions.defaults());
    Manifest mf = rq.manifest("c/1");
    // part 0: flip a byte inside the symbols of the shard holding ESI 0 (a source shard)
    ObjectLayout l0 = rq.master.getReplicaList(mf.partKey(0));
    ShardLayout s0 = l0.blocks().get(0).shards().get(0);
    assertEquals(0, s0.firstEsi());
    ArrowBuf seg0 = RqPlugin.of(owner(s0.segment())).segment().buffer();
    long at = s0.offset() + ShardLayout.HEADER_BYTES + 5;
    seg0.setByte(at, seg0.getByte(at) ^ 0x40);
    // part 1: damage the header of its second shard
    ObjectLayout l1 = rq.master.getReplicaList(mf.partKey(1));
    ShardLayout s1 = l1.blocks().get(0).shards().get(1);
    ArrowBuf seg1 = RqPlugin.of(owner(s1.segment())).segment().buffer();
    seg1.setByte(s1.offset() + 13, seg1.getByte(s1.offset() + 13) ^ 0x01);

    assertArrayEquals(data, reveal(rq, "c/1"));
    assertArrayEquals(data, reveal(store(2), "c/1"));
    assertTrue(rq.badShards().contains(GridStore.badKey(s0)), rq.badShards().toString());
    assertTrue(rq.badShards().contains(GridStore.badKey(s1)), rq.badShards().toString());
    ObjectStat st = rq.stat("c/1");
    assertEquals(2, st.lostShards(), st.toString());
    assertEquals("DEGRADED", st.health(), st.toString());

    // corrupt every shard of part 2 but one: not enough symbols, DATA_LOSS naming the block
    ObjectLayout l2 = rq.master.getReplicaList(mf.partKey(2));
    for (ShardLayout s : l2.blocks().get(0).shards().subList(1, l2.blocks().get(0).shards().size())) {
      ArrowBuf b = RqPlugin.of(owner(s.segment())).segment().buffer();
      b.setByte(s.offset() + ShardLayout.HEADER_BYTES, b.getByte(s.offset() + ShardLayout.HEADER_BYTES) ^ 1);
    }
    RqException e = assertThrows(RqException.class, () -> reveal(rq, "c/1"));
    assertEquals(RqException.Code.DATA_LOSS, e.code());
    assertTrue(e.getMessage().contains("'c/1' part 2"), e.getMessage());
    assertTrue(e.getMessage().contains("valid symbols"), e.getMessage());
    assertEquals(-1, rq.stat("c/1").tolerableNow());
    assertTrue(rq.remove("c/1"));
  }

  @Test
  @Order(2)
  void aStashOutlivingItsLeaseFailsAndLeavesNothing() throws Exception {
    var c = io.runicquanta.master.LocalGrid.config("flt-client", 44400, 44500, PluginGrid.RANGE, 32, true);
    c.setPluginConfigurations(PluginGrid.testConfig().stashLeaseMillis(1000).build());
    Ignite client = Ignition.start(c);
    try {
      RqStore rq = RqStore.of(client);
      byte[] d = SplitMix64.bytes(80, 200_000);
      InputStream slow = new ByteArrayInputStream(d) {
        boolean slept;

        @Override
        public synchronized int read(byte[] b, int off, int len) {
          if (pos > 100_000 && !slept) {
            slept = true;
            try {
              Thread.sleep(2500); // past the 1 s put lease of the parts already started
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return super.read(b, off, len);
        }
      };
      RqException e = assertThrows(RqException.class,
          () -> rq.stash("lease/1", slow, StashOptions.defaults()));
      assertTrue(e.getMessage().contains("lease"), e.getMessage());
      assertTrue(rq.list("lease/.*").isEmpty());
      assertTrue(!rq.exists("lease/1"));
      // the same key works afterwards
      rq.stash("lease/1", d, StashOptions.defaults());
      assertArrayEquals(d, store(1).revealBytes("lease/1"));
      assertTrue(rq.remove("lease/1"));
    } finally {
      Ignition.stop(client.name(), true);
    }
  }

  /**
   * A part's PutStart retried by the master client after a failover finds its own earlier
   * reservation (ALREADY_EXISTS on a key only this stash uses): the stash gives it back and starts
   * again instead of failing with an error about a key the user never named.
   */
  @Test
  @Order(2)
  void retriedPartPutStartRecoversItsOwnReservation() {
    GridStore rq = store(0);
    String pk = Manifest.partKey(UUID.randomUUID(), 0);
    ObjectLayout first = rq.putStart(pk, 5000, 1, 65536, 1024);
    ObjectLayout again = rq.putStartPart(pk, 5000, 1, 65536, 1024);
    assertEquals(first.blocks().get(0).k(), again.blocks().get(0).k());
    RqException dup = assertThrows(RqException.class, () -> rq.putStart(pk, 5000, 1, 65536, 1024));
    assertEquals(RqException.Code.ALREADY_EXISTS, dup.code());
    rq.call("PutRevoke", st -> st.putRevoke(
        io.runicquanta.master.proto.PutRevokeRequest.newBuilder().setKey(pk).build()));
  }

  @Test
  @Order(3)
  void revealAfterANodeStops() throws Exception {
    GridStore rq = store(0);
    byte[] data = SplitMix64.bytes(78, 6 * 65536 + 3);
    byte[] small = SplitMix64.bytes(79, 10);
    rq.stash("n/1", new ByteArrayInputStream(data), StashOptions.defaults());
    rq.stash("n/2", new ByteArrayInputStream(small), StashOptions.defaults());
    assertEquals("HEALTHY", rq.stat("n/1").health());
    // stop the node that is neither the caller nor (normally) the master host: the last one
    Ignite victim = grid.nodes.get(3);
    String victimSeg = RqPlugin.of(victim).segment().name();
    UUID victimId = victim.cluster().localNode().id();
    Ignition.stop(victim.name(), true);
    grid.nodes.remove(3);
    assertTrue(rq.aliveNodes().stream().noneMatch(id -> id.equals(victimId.toString())));
    assertArrayEquals(data, reveal(rq, "n/1"));
    assertArrayEquals(small, reveal(store(1), "n/2"));
    ObjectStat st = rq.stat("n/1");
    assertTrue(st.lostShards() > 0, st.toString());
    assertEquals(0, st.tolerableNow(), st.toString());
    assertEquals("DEGRADED", st.health());
    ClusterStatus cs = rq.status();
    assertEquals(3, cs.nodes());
    assertTrue(cs.segments().stream().anyMatch(s -> s.name().equals(victimSeg) && !s.alive()),
        cs.toString());
    assertTrue(cs.degradedObjects() >= 1, cs.toString());
    // a new stash still works on the 3 nodes left
    rq.stash("n/3", new ByteArrayInputStream(data), StashOptions.defaults());
    assertArrayEquals(data, reveal(store(2), "n/3"));
    // the master marks the gone node's segment LOST and places nothing there any more
    assertEquals("HEALTHY", rq.stat("n/3").health(), rq.stat("n/3").toString());
    // even m = 0 is stored whole: no shard goes to the lost segment
    rq.stash("n/4", new ByteArrayInputStream(data), StashOptions.defaults().lossTolerance(0));
    assertEquals("HEALTHY", rq.stat("n/4").health(), rq.stat("n/4").toString());
    assertArrayEquals(data, reveal(store(1), "n/4"));
    assertTrue(rq.remove("n/4"));
  }
}
