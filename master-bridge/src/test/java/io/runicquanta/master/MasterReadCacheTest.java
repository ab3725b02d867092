package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.master.proto.BatchGetReplicaListRequest;
import io.runicquanta.master.proto.BatchGetReplicaListResponse;
import io.runicquanta.master.proto.BufHandle;
import io.runicquanta.master.proto.GetReplicaListByRegexRequest;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.RemoveRequest;
import io.runicquanta.master.proto.RepairEndRequest;
import io.runicquanta.master.proto.RepairRevokeRequest;
import io.runicquanta.master.proto.RepairStartRequest;
import io.runicquanta.master.proto.RepairStartResponse;
import io.runicquanta.master.proto.ReplicaInfo;
import io.runicquanta.master.proto.ReportCorruptRequest;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The master's cached reader placement (built once per object version, {@link ObjectRecord}'s
 * class comment): after every kind of change a read sees the new placement, never the cached one
 * of the version before. The oracle is the durable record in the objects cache, converted without
 * any cache: every read form (GetReplicaList, BatchGetReplicaList, GetReplicaListByRegex) must
 * equal it, read twice (the second read is served from the cache), after PutStart (invisible),
 * PutEnd, a corrupt mark, RepairStart, RepairRevoke, RepairEnd, Remove and a new put of the same
 * key, PutRevoke and a new put, and a master rebuilt from the caches after a change that never
 * became durable.
 */
class MasterReadCacheTest {
  static final long MIB = 1 << 20;
  TestGrid grid;
  MasterClient c;

  @BeforeEach
  void setUp() {
    grid = TestGrid.shared();
    c = grid.client();
    grid.reset();
    for (int i = 1; i <= 4; i++) {
      c.mountSegment("rc" + i, "rcn" + i, "", 64 * MIB, "tcp", "127.0.0.1:1", new byte[] {1});
    }
  }

  @AfterEach
  void tearDown() {
    grid.reset();
  }

  /** @return what a reader must get for {@code key}: the durable record, converted afresh; or null */
  private ReplicaInfo durable(String key) throws InvalidProtocolBufferException {
    ObjectRecord r = MasterCaches.objects(grid.masterNode(), 1).get(key);
    if (r == null || r.status() != ObjectRecord.COMPLETE) {
      return null;
    }
    return LayoutProtos.withStatus(
        ReplicaInfo.parseFrom(r.layout()), ReplicaInfo.ReplicaStatus.COMPLETE, r.crc32c());
  }

  /**
   * Reads {@code key} by every read form, twice, and checks each answer against the durable record.
   *
   * @return the placement read, or null if the key is not readable
   */
  private ReplicaInfo check(String key) throws Exception {
    ReplicaInfo want = durable(key);
    String regex = com.google.re2j.Pattern.quote(key);
    for (int round = 0; round < 2; round++) {
      if (want == null) {
        assertEquals(Status.Code.NOT_FOUND, MasterServiceTest.code(() -> replica(key)), key);
      } else {
        assertEquals(want, replica(key), "GetReplicaList of " + key + ", read " + round);
      }
      BatchGetReplicaListResponse.Item item = c.call(s -> s.batchGetReplicaList(
          BatchGetReplicaListRequest.newBuilder().addKeys(key).build())).getItems(0);
      if (want == null) {
        assertEquals(Status.Code.NOT_FOUND.value(), item.getStatus().getCode(), item.toString());
      } else {
        assertEquals(want, item.getReplica(), "BatchGetReplicaList of " + key + ", read " + round);
      }
      List<ReplicaInfo> byRegex = c.call(s -> s.getReplicaListByRegex(
          GetReplicaListByRegexRequest.newBuilder().setKeyRegex(regex).build())).getReplicasList();
      assertEquals(want == null ? List.of() : List.of(want), byRegex, "regex read of " + key);
    }
    return want;
  }

  private ReplicaInfo replica(String key) {
    return c.call(s -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build()))
        .getReplica();
  }

  private boolean report(String key, BufHandle h) {
    return c.call(s -> s.reportCorrupt(ReportCorruptRequest.newBuilder().setKey(key).setBlockId(0)
        .setSegmentName(h.getSegmentName()).setOffset(h.getOffset()).setReason("test").build()))
        .getNewlyMarked();
  }

  private RepairStartResponse repairStart(String key, int lost) {
    return c.call(s -> s.repairStart(RepairStartRequest.newBuilder().setKey(key).setBlockId(0)
        .setLeaseMs(30_000).addLostShards(lost).build()));
  }

  private ReplicaInfo put(String key, int crcBase) throws Exception {
    ObjectLayout l = c.putStart(key, 300_000, 1, 1 << 20, 1024);
    assertNull(check(key), "visible before PutEnd");
    int[] crcs = new int[l.shardCount()];
    for (int i = 0; i < crcs.length; i++) {
      crcs[i] = crcBase + i;
    }
    c.putEnd(key, crcs);
    ReplicaInfo r = check(key);
    assertNotNull(r);
    assertEquals(crcBase, r.getBlocks(0).getShards(0).getCrc32C());
    return r;
  }

  private static void assertNull(Object o, String what) {
    assertEquals(null, o, what);
  }

  @Test
  void aReadAfterEveryKindOfChangeSeesTheNewPlacement() throws Exception {
    String key = "cache/a";
    ReplicaInfo v1 = put(key, 0x100);

    // a corrupt mark
    BufHandle bad = v1.getBlocks(0).getShards(1);
    assertTrue(report(key, bad));
    ReplicaInfo v2 = check(key);
    assertTrue(v2.getBlocks(0).getShards(1).getCorrupt());
    assertNotEquals(v1, v2);

    // a repair started, revoked, started again and ended
    RepairStartResponse first = repairStart(key, 1);
    ReplicaInfo v3 = check(key);
    assertEquals(first.getRepairId(), v3.getBlocks(0).getRepairId());
    assertEquals(v2.getBlocks(0).getShardsList(), v3.getBlocks(0).getShardsList(), "old shards until RepairEnd");
    c.call(s -> s.repairRevoke(RepairRevokeRequest.newBuilder().setKey(key).setBlockId(0)
        .setRepairId(first.getRepairId()).build()));
    ReplicaInfo v4 = check(key);
    assertEquals("", v4.getBlocks(0).getRepairId());
    RepairStartResponse rep = repairStart(key, 1);
    check(key);
    RepairEndRequest.Builder end = RepairEndRequest.newBuilder().setKey(key).setBlockId(0)
        .setRepairId(rep.getRepairId());
    for (int i = 0; i < rep.getShardsCount(); i++) {
      end.addShardCrc32C(0x700 + i);
    }
    c.call(s -> s.repairEnd(end.build()));
    ReplicaInfo v5 = check(key);
    for (BufHandle h : v5.getBlocks(0).getShardsList()) {
      assertFalse(h.getSegmentName().equals(bad.getSegmentName()) && h.getOffset() == bad.getOffset(),
          "the replaced shard is still handed out: " + v5);
    }
    assertTrue(v5.getBlocks(0).getShardsList().stream().anyMatch(h -> h.getCrc32C() == 0x700));

    // Remove, then a new put of the same key: the new placement and checksums, never the old
    c.call(s -> s.remove(RemoveRequest.newBuilder().setKey(key).build()));
    assertNull(check(key), "readable after Remove");
    ReplicaInfo v6 = put(key, 0x900);
    assertNotEquals(v5, v6);

    // PutRevoke, then a new put of the same key
    String k2 = "cache/b";
    c.putStart(k2, 300_000, 1, 1 << 20, 1024);
    c.putRevoke(k2);
    assertNull(check(k2), "readable after PutRevoke");
    put(k2, 0xA00);
    assertEquals(List.of(), grid.core().checkConsistency());
  }

  @Test
  void theCoreBuildsAReadersPlacementOncePerVersion() throws Exception {
    String key = "cache/once";
    put("cache/once", 0x10);
    MasterCore core = grid.core();
    ReplicaInfo a = core.getReplicaList(key).join().replica();
    assertSame(a, core.getReplicaList(key).join().replica(), "second read of one version rebuilt it");
    assertEquals(durable(key), a);
    assertTrue(report(key, a.getBlocks(0).getShards(0)));
    ReplicaInfo b = core.getReplicaList(key).join().replica();
    assertNotSame(a, b);
    assertEquals(durable(key), b);
    assertTrue(b.getBlocks(0).getShards(0).getCorrupt());
    assertSame(b, core.getReplicaList(key).join().replica());
  }

  @Test
  void aMasterRebuiltFromTheCachesServesTheDurablePlacementNotADroppedChange() throws Exception {
    String key = "cache/failover";
    ReplicaInfo v1 = put(key, 0x300);
    MasterCore old = grid.core();
    assertEquals(v1, old.getReplicaList(key).join().replica());
    // the next change never becomes durable: every commit attempt of its batch fails, the core
    // restarts from the caches
    old.failCommits(MasterCore.COMMIT_ATTEMPTS, new org.apache.ignite.IgniteException("injected"));
    BufHandle h = v1.getBlocks(0).getShards(2);
    assertEquals(Status.Code.UNAVAILABLE, MasterServiceTest.code(() -> c.stub().reportCorrupt(
        ReportCorruptRequest.newBuilder().setKey(key).setBlockId(0).setSegmentName(h.getSegmentName())
            .setOffset(h.getOffset()).setReason("test").build())));
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (grid.core() == old) {
      assertTrue(System.nanoTime() < deadline, "the master did not restart after a failed commit");
      TestGrid.sleep(20);
    }
    // the old core's failure is seen by reads too, never its dropped change
    assertTrue(assertFailed(old));
    ReplicaInfo after = check(key);
    assertEquals(v1, after, "the rebuilt master hands out the durable placement");
    assertFalse(after.getBlocks(0).getShards(2).getCorrupt());
    // and changes again like any other
    assertTrue(report(key, h));
    assertTrue(check(key).getBlocks(0).getShards(2).getCorrupt());
  }

  /** @return true: a read on a core that gave up fails (UNAVAILABLE), it never answers */
  private static boolean assertFailed(MasterCore old) {
    try {
      old.getReplicaList("cache/failover").join();
    } catch (MasterException | CompletionException e) {
      return true;
    }
    return false;
  }
}
