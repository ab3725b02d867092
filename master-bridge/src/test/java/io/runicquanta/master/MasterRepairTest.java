package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.runicquanta.codec.layout.BlockLayout;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import io.runicquanta.master.proto.BufHandle;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.ListDegradedRequest;
import io.runicquanta.master.proto.ListDegradedResponse;
import io.runicquanta.master.proto.ListSegmentsRequest;
import io.runicquanta.master.proto.ListSegmentsResponse;
import io.runicquanta.master.proto.RemoveRequest;
import io.runicquanta.master.proto.RepairEndRequest;
import io.runicquanta.master.proto.RepairRevokeRequest;
import io.runicquanta.master.proto.RepairStartRequest;
import io.runicquanta.master.proto.RepairStartResponse;
import io.runicquanta.master.proto.ReplicaInfo;
import io.runicquanta.master.proto.ReportCorruptRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Self-healing in the master: a segment whose node (a real Ignite node of the grid) leaves is
 * LOST: never placed on, listed as lost, its objects listed as degraded; RepairStart / RepairEnd /
 * RepairRevoke with fresh ESIs and an atomic swap; a repair racing Remove.
 */
class MasterRepairTest {
  static final long MIB = 1 << 20;
  static final int T = 1024;
  TestGrid grid;
  MasterClient c;
  Ignite extra;
  String extraId;

  @BeforeEach
  void setUp() {
    grid = TestGrid.shared();
    c = grid.client();
    grid.reset();
    // a node that will leave: a client node of the grid (it cannot host the master), whose id
    // names the fourth segment's node
    extra = Ignition.start(LocalGrid.config("mb-repair-leaver", TestGrid.SHARED_DISCO,
        TestGrid.SHARED_COMM, TestGrid.RANGE, 16, true));
    extraId = extra.cluster().localNode().id().toString();
    for (int i = 1; i <= 3; i++) {
      c.mountSegment("r" + i, "rn" + i, "", 64 * MIB, "tcp", "127.0.0.1:1", new byte[] {1});
    }
    c.mountSegment("r4", extraId, "", 64 * MIB, "tcp", "127.0.0.1:1", new byte[] {1});
  }

  @AfterEach
  void tearDown() {
    if (extra != null) {
      Ignition.stop(extra.name(), true);
    }
    grid.reset();
  }

  private ObjectLayout store(String key, long size) {
    ObjectLayout l = c.putStart(key, size, 1, 1 << 20, T);
    c.putEnd(key, MasterServiceTest.crcs(l));
    return l;
  }

  private Map<String, Boolean> lostFlags() {
    Map<String, Boolean> out = new HashMap<>();
    for (ListSegmentsResponse.Item it :
        c.call(s -> s.listSegments(ListSegmentsRequest.getDefaultInstance())).getSegmentsList()) {
      out.put(it.getSegment().getName(), it.getLost());
    }
    return out;
  }

  private void loseExtra() {
    Ignition.stop(extra.name(), true);
    extra = null;
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!Boolean.TRUE.equals(lostFlags().get("r4"))) {
      assertTrue(System.nanoTime() < deadline, "segment r4 not reported lost in 20 s");
      TestGrid.sleep(20);
    }
  }

  private static int index(ReplicaInfo r, int block, String segment) {
    var b = r.getBlocks(block);
    for (int i = 0; i < b.getShardsCount(); i++) {
      if (b.getShards(i).getSegmentName().equals(segment)) {
        return i;
      }
    }
    return -1;
  }

  private ReplicaInfo replica(String key) {
    return c.call(s -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build()))
        .getReplica();
  }

  private RepairStartResponse start(String key, int block, int... lost) {
    // a short repair lease: a Remove racing the repair keeps the space until it ends
    RepairStartRequest.Builder b =
        RepairStartRequest.newBuilder().setKey(key).setBlockId(block).setLeaseMs(3000);
    for (int i : lost) {
      b.addLostShards(i);
    }
    return c.call(s -> s.repairStart(b.build()));
  }

  private void end(String key, int block, RepairStartResponse r, int crcBase) {
    RepairEndRequest.Builder b =
        RepairEndRequest.newBuilder().setKey(key).setBlockId(block).setRepairId(r.getRepairId());
    for (int i = 0; i < r.getShardsCount(); i++) {
      b.addShardCrc32C(crcBase + i);
    }
    c.call(s -> s.repairEnd(b.build()));
  }

  @Test
  void lostSegmentIsNeverPlacedAndItsObjectsAreListedDegraded() {
    ObjectLayout before = store("heal/a", 300_000);
    assertEquals(4, before.blocks().get(0).shards().size());
    assertFalse(lostFlags().get("r4"));
    assertEquals(0, c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance())).getItemsCount());
    loseExtra();
    // placement never picks it: 40 objects, none has a shard there
    for (int i = 0; i < 40; i++) {
      ObjectLayout l = c.putStart("heal/p" + i, 50_000 + i, 1, 1 << 20, T);
      for (BlockLayout b : l.blocks()) {
        assertEquals(3, b.shards().size());
        for (ShardLayout s : b.shards()) {
          assertFalse(s.segment().equals("r4"), "placed on lost segment: " + l);
        }
      }
    }
    // m = 3 needs 4 live units; only 3 are left
    assertEquals(Status.Code.FAILED_PRECONDITION, MasterServiceTest.code(
        () -> c.putStart("heal/m3", 10_000, 3, 1 << 20, T)));
    ListDegradedResponse d = c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance()));
    assertEquals(1, d.getItemsCount());
    assertEquals("heal/a", d.getItems(0).getKey());
    assertEquals(1, d.getItems(0).getLostShards());
    assertEquals(4, d.getItems(0).getTotalShards());
    assertEquals(List.of(0), d.getItems(0).getDegradedBlocksList());
    assertFalse(d.getItems(0).getRepairing());
    assertEquals(List.of(), grid.core().checkConsistency());
  }

  @Test
  void repairGivesFreshEsisAndSwapsAtomicallyThenTheLostSegmentIsDropped() {
    store("heal/b", 300_000);
    ReplicaInfo r0 = replica("heal/b");
    var b0 = r0.getBlocks(0);
    int k = b0.getK();
    int maxEsi = 0;
    for (BufHandle h : b0.getShardsList()) {
      maxEsi = Math.max(maxEsi, h.getFirstEsi() + h.getEsiCount());
    }
    loseExtra();
    int lostIdx = index(r0, 0, "r4");
    assertTrue(lostIdx >= 0);
    // every shard on a lost segment must be named
    assertEquals(Status.Code.INVALID_ARGUMENT, MasterServiceTest.code(
        () -> start("heal/b", 0, (lostIdx + 1) % 4)));
    assertEquals(Status.Code.INVALID_ARGUMENT, MasterServiceTest.code(() -> start("heal/b", 7, lostIdx)));
    assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> start("heal/none", 0, 0)));

    // a revoked repair's ESIs are not handed out again
    RepairStartResponse first = start("heal/b", 0, lostIdx);
    assertEquals(Status.Code.FAILED_PRECONDITION, MasterServiceTest.code(() -> start("heal/b", 0, lostIdx)));
    assertTrue(c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance())).getItems(0).getRepairing());
    int firstEnd = 0;
    for (BufHandle h : first.getShardsList()) {
      assertTrue(h.getFirstEsi() >= maxEsi, "ESI " + h.getFirstEsi() + " reused (max " + maxEsi + ")");
      firstEnd = Math.max(firstEnd, h.getFirstEsi() + h.getEsiCount());
    }
    c.call(s -> s.repairRevoke(RepairRevokeRequest.newBuilder().setKey("heal/b").setBlockId(0)
        .setRepairId(first.getRepairId()).build()));
    RepairStartResponse rep = start("heal/b", 0, lostIdx);
    assertTrue(rep.getShardsCount() > 0);
    Map<String, Integer> perSeg = new HashMap<>();
    Set<Integer> esis = new HashSet<>();
    for (BufHandle h : rep.getShardsList()) {
      assertFalse(h.getSegmentName().equals("r4"));
      assertTrue(h.getFirstEsi() >= firstEnd, "ESI " + h.getFirstEsi() + " below " + firstEnd);
      assertTrue(h.getFirstEsi() + h.getEsiCount() < (1 << 24));
      assertEquals(ShardLayout.HEADER_BYTES + (long) h.getEsiCount() * T, h.getSize());
      for (int e = 0; e < h.getEsiCount(); e++) {
        assertTrue(esis.add(h.getFirstEsi() + e));
      }
    }
    // before RepairEnd readers see the old shards only
    ReplicaInfo mid = replica("heal/b");
    assertEquals(4, mid.getBlocks(0).getShardsCount());
    assertEquals(b0.getShardsList().stream().map(BufHandle::getFirstEsi).toList(),
        mid.getBlocks(0).getShardsList().stream().map(BufHandle::getFirstEsi).toList());
    // wrong checksum count
    assertEquals(Status.Code.INVALID_ARGUMENT, MasterServiceTest.code(() -> c.call(s -> s.repairEnd(
        RepairEndRequest.newBuilder().setKey("heal/b").setBlockId(0).setRepairId(rep.getRepairId())
            .build()))));
    end("heal/b", 0, rep, 0x1000);
    ReplicaInfo after = replica("heal/b");
    var b1 = after.getBlocks(0);
    assertEquals(3 + rep.getShardsCount(), b1.getShardsCount());
    Map<String, Integer> unitSyms = new HashMap<>();
    for (int i = 0; i < b1.getShardsCount(); i++) {
      BufHandle h = b1.getShards(i);
      assertFalse(h.getSegmentName().equals("r4"));
      unitSyms.merge(h.getSegmentName(), h.getEsiCount(), Integer::sum);
      if (i >= 3) {
        assertEquals(0x1000 + i - 3, h.getCrc32C());
        assertEquals(BufHandle.BufStatus.COMPLETE, h.getStatus());
      }
    }
    assertEquals(0, b1.getRepairShardsCount());
    // tolerance m = 1 is back: the two smallest units hold K + h symbols
    List<Integer> counts = new ArrayList<>(unitSyms.values());
    counts.sort(null);
    assertEquals(3, counts.size());
    assertTrue(counts.get(0) + counts.get(1) >= k + 3, "units hold " + counts + ", K = " + k);
    assertEquals(0, c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance())).getItemsCount());
    // the lost segment's metadata goes once nothing references it
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (lostFlags().containsKey("r4")) {
      assertTrue(System.nanoTime() < deadline, "lost segment r4 not dropped");
      TestGrid.sleep(20);
    }
    assertEquals(List.of(), grid.core().checkConsistency());
    // the old repair id is unknown now
    assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> end("heal/b", 0, first, 0)));
  }

  @Test
  void repairRacingRemoveEndsWithOneWinnerAndConsistentSpace() throws Exception {
    for (int i = 0; i < 12; i++) {
      store("heal/race" + i, 100_000 + i);
    }
    loseExtra();
    ExecutorService ex = Executors.newFixedThreadPool(2);
    int repairsWon = 0;
    try {
      for (int i = 0; i < 12; i++) {
        String key = "heal/race" + i;
        int lostIdx = index(replica(key), 0, "r4");
        RepairStartResponse rep = start(key, 0, lostIdx);
        CountDownLatch go = new CountDownLatch(1);
        Future<Status.Code> endF = ex.submit(() -> {
          go.await();
          try {
            end(key, 0, rep, 7);
            return Status.Code.OK;
          } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
          }
        });
        Future<Status.Code> rmF = ex.submit(() -> {
          go.await();
          try {
            c.call(s -> s.remove(RemoveRequest.newBuilder().setKey(key).build()));
            return Status.Code.OK;
          } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
          }
        });
        go.countDown();
        Status.Code e = endF.get();
        Status.Code r = rmF.get();
        assertEquals(Status.Code.OK, r, "Remove must always succeed");
        assertTrue(e == Status.Code.OK || e == Status.Code.NOT_FOUND, "RepairEnd: " + e);
        if (e == Status.Code.OK) {
          repairsWon++;
        }
        assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> replica(key)));
      }
    } finally {
      ex.shutdownNow();
    }
    System.out.println("repair vs remove: RepairEnd first in " + repairsWon + " of 12 races");
    assertEquals(List.of(), grid.core().checkConsistency());
  }

  private Map<String, Long> freeBytes() {
    Map<String, Long> out = new HashMap<>();
    for (ListSegmentsResponse.Item it :
        c.call(s -> s.listSegments(ListSegmentsRequest.getDefaultInstance())).getSegmentsList()) {
      if (!it.getLost()) {
        out.put(it.getSegment().getName(), it.getFreeBytes());
      }
    }
    return out;
  }

  /**
   * Remove of an object under repair parks its space (the repair's regions included) until the
   * repair's lease ends, since the repairer may still write; once the repairer reports back
   * (RepairEnd or RepairRevoke, both NOT_FOUND now) it no longer writes, so the space must come
   * back after the read lease, not after the (here 10 minute) repair lease.
   */
  @Test
  void spaceOfAnObjectRemovedUnderRepairComesBackWhenTheRepairerReportsBack() {
    Map<String, Long> empty = freeBytes();
    for (boolean viaEnd : new boolean[] {true, false}) {
      String key = "heal/removed-" + viaEnd;
      ObjectLayout l = c.putStart(key, 300_000, 1, 1 << 20, T);
      c.putEnd(key, MasterServiceTest.crcs(l));
      // a shard to repair: one reported corrupt (no node needs to leave)
      BufHandle h0 = replica(key).getBlocks(0).getShards(0);
      assertTrue(report(key, 0, h0));
      RepairStartRequest.Builder b = RepairStartRequest.newBuilder().setKey(key).setBlockId(0)
          .setLeaseMs(600_000).addLostShards(0);
      RepairStartResponse rep = c.call(s -> s.repairStart(b.build()));
      assertTrue(rep.getShardsCount() > 0);
      c.call(s -> s.remove(RemoveRequest.newBuilder().setKey(key).build()));
      assertFalse(freeBytes().equals(empty), "space kept while the repairer may write");
      if (viaEnd) {
        assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> end(key, 0, rep, 1)));
      } else {
        assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> c.call(s -> s.repairRevoke(
            RepairRevokeRequest.newBuilder().setKey(key).setBlockId(0).setRepairId(rep.getRepairId())
                .build()))));
      }
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (!freeBytes().equals(empty)) {
        assertTrue(System.nanoTime() < deadline, (viaEnd ? "RepairEnd" : "RepairRevoke")
            + " after Remove: space not back in 20 s (read lease 0.5 s): " + freeBytes() + " vs " + empty);
        TestGrid.sleep(50);
      }
      assertEquals(List.of(), grid.core().checkConsistency());
    }
  }

  /**
   * The same after a failover: a master rebuilt from the caches must keep the space of an object
   * removed under repair until the repair's deadline (its repairer may still write), not only one
   * read lease; and a repair that reported back before the failover must not hold the space again
   * (the stored pending free forgets its deadline). The object has two blocks under repair; block
   * 0's repairer reports back, then the master restarts from the caches, then block 1's repairer
   * reports back: the space must come back one read lease later, not after block 0's 10-minute
   * deadline.
   */
  @Test
  void aMasterRebuiltFromTheCachesKeepsTheSpaceOfAnObjectRemovedUnderRepairUntilItsRepairersReport()
      throws Exception {
    Map<String, Long> empty = freeBytes();
    String key = "heal/removed-failover";
    ObjectLayout l = c.putStart(key, 2 * MIB + 1000, 1, 1 << 20, T);
    c.putEnd(key, MasterServiceTest.crcs(l));
    RepairStartResponse[] reps = new RepairStartResponse[2];
    for (int block = 0; block < 2; block++) {
      BufHandle h = replica(key).getBlocks(block).getShards(0);
      assertTrue(report(key, block, h));
      RepairStartRequest.Builder b = RepairStartRequest.newBuilder().setKey(key).setBlockId(block)
          .setLeaseMs(600_000).addLostShards(0);
      reps[block] = c.call(s -> s.repairStart(b.build()));
      assertTrue(reps[block].getShardsCount() > 0);
    }
    c.call(s -> s.remove(RemoveRequest.newBuilder().setKey(key).build()));
    assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> end(key, 0, reps[0], 1)));
    Map<String, Long> held = freeBytes();
    assertFalse(held.equals(empty), "space kept while block 1's repairer may write");

    // restart the master from the caches: every commit attempt of the next batch fails
    MasterCore old = grid.core();
    old.failCommits(MasterCore.COMMIT_ATTEMPTS, new org.apache.ignite.IgniteException("injected"));
    assertEquals(Status.Code.UNAVAILABLE, MasterServiceTest.code(() -> c.stub().putStart(
        io.runicquanta.master.proto.PutStartRequest.newBuilder().setKey("heal/never").setSize(20_000)
            .setRedundancy(io.runicquanta.master.proto.Redundancy.newBuilder().setLossTolerance(1)
                .setBlockSize(8192).setSymbolSize(256)).build())));
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (grid.core() == old) {
      assertTrue(System.nanoTime() < deadline, "the master did not restart after a failed commit");
      TestGrid.sleep(20);
    }
    // four read leases later the rebuilt master still holds it: block 1's repairer may write
    TestGrid.sleep(2_000);
    assertEquals(held, freeBytes(), "a rebuilt master freed the space of a repair still open");

    assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> end(key, 1, reps[1], 1)));
    deadline = System.nanoTime() + 20_000_000_000L;
    while (!freeBytes().equals(empty)) {
      assertTrue(System.nanoTime() < deadline, "both repairers reported back, but the rebuilt"
          + " master did not free the space in 20 s (read lease 0.5 s): " + freeBytes() + " vs " + empty);
      TestGrid.sleep(50);
    }
    assertEquals(List.of(), grid.core().checkConsistency());
  }

  private boolean report(String key, int block, BufHandle h) {
    return c.call(s -> s.reportCorrupt(ReportCorruptRequest.newBuilder().setKey(key).setBlockId(block)
        .setSegmentName(h.getSegmentName()).setOffset(h.getOffset()).setReason("test").build()))
        .getNewlyMarked();
  }

  @Test
  void aShardReportedCorruptIsListedDegradedAndReplacedWithFreshEsis() {
    store("bad/a", 300_000);
    store("bad/b", 200_000);
    ReplicaInfo r0 = replica("bad/a");
    var b0 = r0.getBlocks(0);
    int maxEsi = 0;
    for (BufHandle h : b0.getShardsList()) {
      maxEsi = Math.max(maxEsi, h.getFirstEsi() + h.getEsiCount());
      assertFalse(h.getCorrupt());
    }
    // no node lost: nothing degraded
    assertEquals(0, c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance())).getItemsCount());
    BufHandle bad = b0.getShards(1);
    assertTrue(report("bad/a", 0, bad));
    assertFalse(report("bad/a", 0, bad), "a second report is no news");
    // errors: unknown key, block, shard
    assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> report("bad/none", 0, bad)));
    assertEquals(Status.Code.INVALID_ARGUMENT, MasterServiceTest.code(() -> report("bad/a", 3, bad)));
    assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(
        () -> report("bad/a", 0, bad.toBuilder().setOffset(bad.getOffset() + 1).build())));
    // readers see the mark; ListDegraded lists the object with the shard among the lost ones
    assertTrue(replica("bad/a").getBlocks(0).getShards(1).getCorrupt());
    ListDegradedResponse d = c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance()));
    assertEquals(1, d.getItemsCount(), d.toString());
    assertEquals("bad/a", d.getItems(0).getKey());
    assertEquals(1, d.getItems(0).getLostShards());
    assertEquals(List.of(0), d.getItems(0).getDegradedBlocksList());
    assertEquals(List.of(), grid.core().checkConsistency(), "the mark is stored");

    // repaired like a lost shard: fresh ESIs, the corrupt shard leaves the block, space freed
    RepairStartResponse rep = start("bad/a", 0, 1);
    assertTrue(rep.getShardsCount() > 0);
    for (BufHandle h : rep.getShardsList()) {
      assertTrue(h.getFirstEsi() >= maxEsi, "ESI " + h.getFirstEsi() + " reused (max " + maxEsi + ")");
    }
    end("bad/a", 0, rep, 0x2000);
    var b1 = replica("bad/a").getBlocks(0);
    for (BufHandle h : b1.getShardsList()) {
      assertFalse(h.getCorrupt(), h.toString());
      assertFalse(h.getSegmentName().equals(bad.getSegmentName()) && h.getOffset() == bad.getOffset(),
          "the corrupt shard is still in the placement: " + b1);
    }
    assertEquals(b0.getShardsCount() - 1 + rep.getShardsCount(), b1.getShardsCount());
    assertEquals(0, c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance())).getItemsCount());
    // its space went back: the allocators rebuilt from the caches agree with the master's
    assertEquals(List.of(), grid.core().checkConsistency());
    // a report on a replaced shard: NOT_FOUND
    assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> report("bad/a", 0, bad)));
    // a marked object that is removed is no longer listed
    assertTrue(report("bad/b", 0, replica("bad/b").getBlocks(0).getShards(0)));
    assertEquals(1, c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance())).getItemsCount());
    c.call(s -> s.remove(RemoveRequest.newBuilder().setKey("bad/b").build()));
    assertEquals(0, c.call(s -> s.listDegraded(ListDegradedRequest.getDefaultInstance())).getItemsCount());
    assertEquals(List.of(), grid.core().checkConsistency());
  }
}
