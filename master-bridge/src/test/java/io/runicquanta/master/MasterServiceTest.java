package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.runicquanta.codec.layout.BlockLayout;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import io.runicquanta.master.proto.BatchGetReplicaListRequest;
import io.runicquanta.master.proto.BatchGetReplicaListResponse;
import io.runicquanta.master.proto.BatchPutEndRequest;
import io.runicquanta.master.proto.BatchPutEndResponse;
import io.runicquanta.master.proto.BatchPutStartRequest;
import io.runicquanta.master.proto.BatchPutStartResponse;
import io.runicquanta.master.proto.BatchRemoveRequest;
import io.runicquanta.master.proto.BatchRemoveResponse;
import io.runicquanta.master.proto.GetReplicaListByRegexRequest;
import io.runicquanta.master.proto.GetReplicaListByRegexResponse;
import io.runicquanta.master.proto.ListSegmentsRequest;
import io.runicquanta.master.proto.ListSegmentsResponse;
import io.runicquanta.master.proto.PutEndRequest;
import io.runicquanta.master.proto.PutStartRequest;
import io.runicquanta.master.proto.Redundancy;
import io.runicquanta.master.proto.RemoveByRegexRequest;
import io.runicquanta.master.proto.RemoveByRegexResponse;
import io.runicquanta.master.proto.ReplicaInfo;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The master's API over real gRPC against a 3-node in-process grid. */
class MasterServiceTest {
  static final long MIB = 1 << 20;
  TestGrid grid;
  MasterClient c;

  @BeforeEach
  void setUp() {
    grid = TestGrid.shared();
    c = grid.client();
    grid.reset();
  }

  void mount(String name, String node, String domain, long size) {
    c.mountSegment(name, node, domain, size, "tcp", "127.0.0.1:1", new byte[] {1, 2});
  }

  void mountThree(long size) {
    mount("s1", "n1", "", size);
    mount("s2", "n2", "", size);
    mount("s3", "n3", "", size);
  }

  static Status.Code code(Executable e) {
    StatusRuntimeException ex = assertThrows(StatusRuntimeException.class, e);
    return ex.getStatus().getCode();
  }

  static String message(Status.Code want, Executable e) {
    StatusRuntimeException ex = assertThrows(StatusRuntimeException.class, e);
    assertEquals(want, ex.getStatus().getCode(), ex.getStatus().getDescription());
    return ex.getStatus().getDescription();
  }

  static int[] crcs(ObjectLayout l) {
    int[] out = new int[l.shardCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = 0x9E3779B9 * (i + 1);
    }
    return out;
  }

  long freeBytes() {
    long f = 0;
    for (ListSegmentsResponse.Item it :
        c.call(s -> s.listSegments(ListSegmentsRequest.getDefaultInstance())).getSegmentsList()) {
      f += it.getFreeBytes();
    }
    return f;
  }

  @Test
  void putStartPlacesBlocksOnDistinctNodesAndPutEndPublishes() {
    mountThree(64 * MIB);
    long size = 1_000_000;
    ObjectLayout l = c.putStart("obj/a", size, 1, 256 * 1024, 1024);
    // Kt = ceil(1e6/1024) = 977, KB = 256 -> Z = 4, Partition[977, 4]: 245, 244, 244, 244
    assertEquals(4, l.blocks().size());
    assertEquals(1024, l.symbolSize());
    assertEquals(List.of(245, 244, 244, 244), l.blocks().stream().map(BlockLayout::k).toList());
    long off = 0;
    for (BlockLayout b : l.blocks()) {
      assertEquals(off, b.offset());
      off += (long) b.k() * 1024;
      assertEquals(3, b.shards().size());
      Set<String> segs = new HashSet<>();
      int s = (b.k() + 3 + 1) / 2; // ceil((K + h) / (n - m)) with n = 3, m = 1
      for (int j = 0; j < 3; j++) {
        ShardLayout sh = b.shards().get(j);
        segs.add(sh.segment());
        assertEquals(j * s, sh.firstEsi());
        assertEquals(s, sh.esiCount());
        assertEquals(ShardLayout.HEADER_BYTES + (long) s * 1024, sh.length());
      }
      assertEquals(3, segs.size(), "shards of block " + b.id() + " share a segment");
      assertTrue(2L * s >= b.k() + 3, "after losing 1 shard, K + h symbols remain");
    }
    assertEquals(size, l.blocks().get(3).offset() + l.blocks().get(3).size());
    byte[] oti = l.oti();
    assertEquals(size, ((long) (oti[0] & 0xFF) << 32) | ((oti[1] & 0xFFL) << 24)
        | ((oti[2] & 0xFFL) << 16) | ((oti[3] & 0xFFL) << 8) | (oti[4] & 0xFFL));
    assertEquals(4, oti[8]);
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.getReplicaList("obj/a")), "invisible before PutEnd");
    int[] crc = crcs(l);
    c.putEnd("obj/a", crc);
    ObjectLayout got = c.getReplicaList("obj/a");
    int i = 0;
    for (BlockLayout b : got.blocks()) {
      for (ShardLayout sh : b.shards()) {
        assertEquals(crc[i++], sh.crc32c());
      }
    }
    assertEquals(l.blocks().get(0).shards().get(0).withCrc32c(crc[0]), got.blocks().get(0).shards().get(0));
    assertArrayEquals(l.oti(), got.oti());
    assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> c.putEnd("obj/a", crc)));
    assertEquals(List.of(), grid.core().checkConsistency());
  }

  @Test
  void converterRoundTrips() {
    mountThree(8 * MIB);
    ObjectLayout l = c.putStart("conv", 70_000, 2, 16_384, 512);
    ReplicaInfo p = LayoutProtos.toProto(l, ReplicaInfo.ReplicaStatus.COMPLETE);
    assertEquals(l, LayoutProtos.fromProto(p));
    assertEquals(ReplicaInfo.ReplicaStatus.COMPLETE, p.getStatus());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LayoutProtos.fromProto(p.toBuilder().setOti(com.google.protobuf.ByteString.copyFrom(new byte[5])).build()));
    assertTrue(e.getMessage().contains("OTI is 5 bytes"), e.getMessage());
  }

  @Test
  void hundredRacingPutStartsHaveOneWinner() throws Exception {
    mountThree(64 * MIB);
    long before = freeBytes();
    int n = 100;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Status.Code>> fs = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        fs.add(pool.submit(() -> {
          go.await();
          try {
            c.putStart("race", 100_000, 1, 65_536, 1024);
            return Status.Code.OK;
          } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
          }
        }));
      }
      go.countDown();
      Map<Status.Code, Integer> counts = new HashMap<>();
      for (Future<Status.Code> f : fs) {
        counts.merge(f.get(60, TimeUnit.SECONDS), 1, Integer::sum);
      }
      assertEquals(Map.of(Status.Code.OK, 1, Status.Code.ALREADY_EXISTS, 99), counts);
    } finally {
      pool.shutdownNow();
    }
    ObjectLayout l = LayoutProtos.fromProto(
        ReplicaInfo.parseFrom(MasterCaches.objects(grid.nodes.get(0), 1).get("race").layout()));
    long taken = 0;
    for (BlockLayout b : l.blocks()) {
      for (ShardLayout s : b.shards()) {
        taken += (s.length() + 63) / 64 * 64;
      }
    }
    assertEquals(before - taken, freeBytes(), "losers' space was given back");
    assertEquals(List.of(), grid.core().checkConsistency());
  }

  @Test
  void tooFewNodesIsFailedPrecondition() {
    mount("s1", "n1", "", 8 * MIB);
    mount("s1b", "n1", "", 8 * MIB);
    mount("s2", "n2", "", 8 * MIB);
    String msg = message(Status.Code.FAILED_PRECONDITION, () -> c.putStart("k", 1000, 2, 4096, 256));
    assertEquals("surviving 2 node losses needs shards on at least 3 nodes; 2 nodes have segments", msg);
  }

  @Test
  void failureDomainsAreDistinctPerBlock() {
    mount("a1", "n1", "rackA", 8 * MIB);
    mount("a2", "n2", "rackA", 8 * MIB);
    mount("b1", "n3", "rackB", 8 * MIB);
    mount("c1", "n4", "rackC", 8 * MIB);
    ObjectLayout l = c.putStart("dom", 200_000, 2, 32_768, 512);
    Map<String, String> domainOf = Map.of("a1", "rackA", "a2", "rackA", "b1", "rackB", "c1", "rackC");
    for (BlockLayout b : l.blocks()) {
      assertEquals(3, b.shards().size(), "one shard per failure domain");
      Set<String> doms = new HashSet<>();
      b.shards().forEach(s -> doms.add(domainOf.get(s.segment())));
      assertEquals(3, doms.size());
    }
    String msg = message(Status.Code.FAILED_PRECONDITION, () -> c.putStart("dom3", 1000, 3, 4096, 256));
    assertTrue(msg.contains("at least 4 failure domains; 3 failure domains have segments"), msg);
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> mount("a3", "n1", "rackZ", 8 * MIB)),
        "a node claims two domains");
  }

  @Test
  void tooLittleSpaceIsResourceExhaustedWithAmounts() {
    mountThree(MIB);
    String msg = message(Status.Code.RESOURCE_EXHAUSTED, () -> c.putStart("big", 4 * MIB, 1, MIB, 4096));
    assertTrue(msg.contains("needs") && msg.contains("free:") && msg.contains("bytes"), msg);
    assertEquals(3 * MIB, freeBytes(), "nothing stays allocated");
    // space from a partly placed object is given back too: fill most, then ask for too much
    c.putStart("fits", 700_000, 1, 1 << 18, 4096);
    long free = freeBytes();
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, code(() -> c.putStart("nofit", 2_000_000, 1, 1 << 18, 4096)));
    assertEquals(free, freeBytes());
  }

  @Test
  void placementBalancesFreeRatio() {
    // n1 offers two segments of different sizes; every block puts one shard on n1 (3 nodes, all
    // used), so balance shows in how n1's shards split: by free ratio, not evenly
    mount("s1a", "n1", "", 8 * MIB);
    mount("s1b", "n1", "", 24 * MIB);
    mount("s2", "n2", "", 32 * MIB);
    mount("s3", "n3", "", 32 * MIB);
    for (int i = 0; i < 40; i++) {
      ObjectLayout l = c.putStart("bal/" + i, 200_000, 1, 65_536, 1024);
      c.putEnd("bal/" + i, crcs(l));
    }
    Map<String, Double> ratio = new HashMap<>();
    for (ListSegmentsResponse.Item it :
        c.call(s -> s.listSegments(ListSegmentsRequest.getDefaultInstance())).getSegmentsList()) {
      ratio.put(it.getSegment().getName(), (double) it.getFreeBytes() / it.getSegment().getSize());
    }
    assertTrue(ratio.get("s1a") < 0.9 && ratio.get("s1b") < 0.9, "both used: " + ratio);
    assertTrue(Math.abs(ratio.get("s1a") - ratio.get("s1b")) < 0.05, "free ratios " + ratio);
  }

  @Test
  void expiredPutLeaseIsRevokedAndSpaceReclaimed() {
    mountThree(8 * MIB);
    long before = freeBytes();
    PutStartRequest req = PutStartRequest.newBuilder().setKey("slow").setSize(100_000)
        .setRedundancy(Redundancy.newBuilder().setLossTolerance(1).setBlockSize(65_536).setSymbolSize(1024))
        .setPutLeaseMs(1_000).build();
    ObjectLayout l = LayoutProtos.fromProto(c.call(s -> s.putStart(req)).getReplica());
    assertTrue(freeBytes() < before);
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (freeBytes() < before && System.nanoTime() < deadline) {
      TestGrid.sleep(50);
    }
    assertEquals(before, freeBytes(), "space reclaimed after the 1 s put lease");
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.putEnd("slow", crcs(l))));
    // the key is free again
    c.putStart("slow", 100_000, 1, 65_536, 1024);
  }

  @Test
  void removeUnderReadLeaseFreesOnlyAfterLease() {
    mountThree(8 * MIB);
    long before = freeBytes();
    ObjectLayout l = c.putStart("leased", 100_000, 1, 65_536, 1024);
    c.putEnd("leased", crcs(l));
    long used = freeBytes();
    c.getReplicaList("leased");
    assertTrue(c.remove("leased"), "space must wait for the read lease");
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.getReplicaList("leased")));
    assertEquals(used, freeBytes(), "space kept while the lease runs");
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (freeBytes() != before && System.nanoTime() < deadline) {
      TestGrid.sleep(20);
    }
    assertEquals(before, freeBytes(), "space freed after the 500 ms lease");
    // without a lease, space comes back at once
    ObjectLayout l2 = c.putStart("unleased", 100_000, 1, 65_536, 1024);
    c.putEnd("unleased", crcs(l2));
    assertFalse(c.remove("unleased"));
    assertEquals(before, freeBytes());
  }

  @Test
  void endedReadLeasesAreForgottenAndANewReadLeasesAgain() {
    mountThree(8 * MIB);
    long before = freeBytes();
    for (int i = 0; i < 50; i++) {
      ObjectLayout l = c.putStart("r" + i, 10_000, 1, 65_536, 1024);
      c.putEnd("r" + i, crcs(l));
      c.getReplicaList("r" + i);
      c.getReplicaList("r" + i); // a second lease of the same key
    }
    MasterCore core = grid.core();
    assertTrue(core.readLeaseCount() > 0, "leases of the objects just read");
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (core.readLeaseCount() > 0 && System.nanoTime() < deadline) {
      TestGrid.sleep(20);
    }
    assertEquals(0, core.readLeaseCount(), "the reaper forgets leases that ended (500 ms lease)");
    // a forgotten lease does not hide a new one: read again, and Remove must keep the space
    c.getReplicaList("r7");
    assertTrue(c.remove("r7"), "space must wait for the new read lease");
    for (int i = 0; i < 50; i++) {
      if (i != 7) {
        assertFalse(c.remove("r" + i), "lease of r" + i + " ended: space freed at once");
      }
    }
    while (freeBytes() != before && System.nanoTime() < deadline + 10_000_000_000L) {
      TestGrid.sleep(20);
    }
    assertEquals(before, freeBytes(), "all space back once the last lease ended");
  }

  @Test
  void aLeaseExtendedByRereadsOutlivesItsFirstEndAndIsForgottenAfterTheLast() {
    mountThree(8 * MIB);
    ObjectLayout l = c.putStart("ext", 10_000, 1, 65_536, 1024);
    c.putEnd("ext", crcs(l));
    // re-read every 100 ms for 1.5 s: three times the 500 ms lease, so the reaper meets the key's
    // first queued end while the lease is still running (only a key's first lease is queued)
    long until = System.nanoTime() + 1_500_000_000L;
    while (System.nanoTime() < until) {
      c.getReplicaList("ext");
      TestGrid.sleep(100);
    }
    MasterCore core = grid.core();
    assertTrue(core.readLeaseCount() > 0, "the extended lease was forgotten while it ran");
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (core.readLeaseCount() > 0 && System.nanoTime() < deadline) {
      TestGrid.sleep(20);
    }
    assertEquals(0, core.readLeaseCount(), "the extended lease was never forgotten after it ended");
    c.getReplicaList("ext");
    until = System.nanoTime() + 1_000_000_000L;
    while (System.nanoTime() < until) {
      c.getReplicaList("ext");
      TestGrid.sleep(100);
    }
    assertTrue(c.remove("ext"), "space of an object under an extended read lease must wait for it");
  }

  @Test
  void putRevokeFreesAndRefusesCompleteObjects() {
    mountThree(8 * MIB);
    long before = freeBytes();
    ObjectLayout l = c.putStart("rev", 100_000, 1, 65_536, 1024);
    c.putRevoke("rev");
    assertEquals(before, freeBytes());
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.putEnd("rev", crcs(l))));
    ObjectLayout l2 = c.putStart("rev", 100_000, 1, 65_536, 1024);
    c.putEnd("rev", crcs(l2));
    assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> c.putRevoke("rev")));
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.putRevoke("never")));
  }

  @Test
  void badInputGetsActionableStatus() {
    mountThree(8 * MIB);
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> c.putStart("", 10, 1, 4096, 256)));
    String longKey = "k".repeat(1025);
    assertTrue(message(Status.Code.INVALID_ARGUMENT, () -> c.putStart(longKey, 10, 1, 4096, 256))
        .contains("1025 bytes"));
    c.putStart("k".repeat(1024), 10, 1, 4096, 256);
    assertTrue(message(Status.Code.INVALID_ARGUMENT, () -> c.putStart("z", 0, 1, 4096, 256))
        .contains("size = 0"));
    assertTrue(message(Status.Code.INVALID_ARGUMENT, () -> c.putStart("z", -5, 1, 4096, 256))
        .contains("size = -5"));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> c.putStart("z", 10, 1, 100, 256)));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> c.putStart("z", 10, 1, 4096, 0)));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> c.putStart("z", 10, 1, 1 << 20, 70_000)));
    assertTrue(message(Status.Code.INVALID_ARGUMENT, () -> c.putStart("z", 1L << 30, 1, 4096, 256))
        .contains("at most 255 blocks"));
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.getReplicaList("nope")));
    // a 1023-byte non-ASCII key quoted in a refusal must still fit gRPC's 8 KiB trailer limit
    String wide = "\u4e2d".repeat(341);
    String d = message(Status.Code.NOT_FOUND, () -> c.getReplicaList(wide));
    assertTrue(d.length() <= MasterErrors.MAX_DESCRIPTION && d.startsWith("no object with key"), d);
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.remove("nope")));
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.putEnd("nope", new int[0])));
    ObjectLayout l = c.putStart("cnt", 1000, 1, 4096, 256);
    assertTrue(message(Status.Code.INVALID_ARGUMENT, () -> c.putEnd("cnt", new int[1]))
        .contains("layout has " + l.shardCount() + " shards"));
    assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> c.remove("cnt")), "put still open");
    assertEquals(Status.Code.ALREADY_EXISTS, code(() -> mount("s1", "n9", "", MIB)));
    String msg = message(Status.Code.FAILED_PRECONDITION, () -> c.unmountSegment("s1"));
    assertTrue(msg.contains("live shards"), msg);
    assertEquals(Status.Code.NOT_FOUND, code(() -> c.unmountSegment("nosuch")));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> mount("tiny", "n5", "", 10)));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> mount("", "n5", "", MIB)));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> mount("neg", "n5", "", -1)));
    assertTrue(message(Status.Code.INVALID_ARGUMENT, () -> c.call(s -> s.getReplicaListByRegex(
        GetReplicaListByRegexRequest.newBuilder().setKeyRegex("a(b").build()))).contains("invalid"));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> c.call(s -> s.removeByRegex(
        RemoveByRegexRequest.newBuilder().setKeyRegex("[z-a]").build()))));
    assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> c.call(s -> s.putStart(
        PutStartRequest.newBuilder().setKey("nored").setSize(10).build()))));
  }

  @Test
  void catastrophicBacktrackingPatternIsLinear() {
    mountThree(8 * MIB);
    String key = "a".repeat(1000) + "!";
    ObjectLayout l = c.putStart(key, 100, 0, 4096, 64);
    c.putEnd(key, crcs(l));
    long t0 = System.nanoTime();
    GetReplicaListByRegexResponse r = c.call(s -> s.getReplicaListByRegex(
        GetReplicaListByRegexRequest.newBuilder().setKeyRegex("(a+)+$").build()));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(0, r.getReplicasCount());
    assertTrue(ms < 2_000, "pattern took " + ms + " ms");
  }

  @Test
  void regexAndBatchCalls() {
    mountThree(32 * MIB);
    BatchPutStartRequest.Builder bs = BatchPutStartRequest.newBuilder();
    for (int i = 0; i < 10; i++) {
      bs.addItems(PutStartRequest.newBuilder().setKey((i % 2 == 0 ? "even/" : "odd/") + i)
          .setSize(10_000).setRedundancy(Redundancy.newBuilder().setLossTolerance(1)
              .setBlockSize(4096).setSymbolSize(256).setDecodeMargin(2)));
    }
    bs.addItems(PutStartRequest.newBuilder().setKey("bad").setSize(-1)
        .setRedundancy(Redundancy.newBuilder().setLossTolerance(1).setBlockSize(4096).setSymbolSize(256)));
    BatchPutStartResponse started = c.call(s -> s.batchPutStart(bs.build()));
    assertEquals(11, started.getItemsCount());
    assertEquals(Status.Code.INVALID_ARGUMENT.value(), started.getItems(10).getStatus().getCode());
    BatchPutEndRequest.Builder be = BatchPutEndRequest.newBuilder();
    for (int i = 0; i < 10; i++) {
      BatchPutStartResponse.Item it = started.getItems(i);
      assertEquals(0, it.getStatus().getCode(), it.getStatus().getMessage());
      // Kt = ceil(10000 / 256) = 40 in Z = 3 blocks: K = 14, 13, 13; h = 2: s = ceil((14 + 2) / 2)
      assertEquals(8, it.getReplica().getBlocks(0).getShards(0).getEsiCount());
      PutEndRequest.Builder pe = PutEndRequest.newBuilder().setKey(it.getKey());
      int shards = it.getReplica().getBlocksList().stream().mapToInt(b -> b.getShardsCount()).sum();
      for (int j = 0; j < shards; j++) {
        pe.addShardCrc32C(j);
      }
      be.addItems(pe);
    }
    be.addItems(PutEndRequest.newBuilder().setKey("missing"));
    BatchPutEndResponse ended = c.call(s -> s.batchPutEnd(be.build()));
    assertEquals(Status.Code.NOT_FOUND.value(), ended.getItems(10).getStatus().getCode());
    GetReplicaListByRegexResponse evens = c.call(s -> s.getReplicaListByRegex(
        GetReplicaListByRegexRequest.newBuilder().setKeyRegex("even/.*").build()));
    assertEquals(5, evens.getReplicasCount());
    assertTrue(evens.getLeaseExpiresUnixMs() > System.currentTimeMillis());
    BatchGetReplicaListResponse bg = c.call(s -> s.batchGetReplicaList(
        BatchGetReplicaListRequest.newBuilder().addKeys("odd/1").addKeys("nope").addKeys("").build()));
    assertEquals(0, bg.getItems(0).getStatus().getCode());
    assertEquals("odd/1", bg.getItems(0).getReplica().getKey());
    assertEquals(Status.Code.NOT_FOUND.value(), bg.getItems(1).getStatus().getCode());
    assertEquals(Status.Code.INVALID_ARGUMENT.value(), bg.getItems(2).getStatus().getCode());
    RemoveByRegexResponse rr = c.call(s -> s.removeByRegex(
        RemoveByRegexRequest.newBuilder().setKeyRegex("odd/.*").build()));
    assertEquals(5, rr.getRemovedCount());
    BatchRemoveResponse br = c.call(s -> s.batchRemove(
        BatchRemoveRequest.newBuilder().addKeys("even/0").addKeys("odd/1").build()));
    assertEquals(0, br.getItems(0).getStatus().getCode());
    assertEquals(Status.Code.NOT_FOUND.value(), br.getItems(1).getStatus().getCode());
    assertNotEquals(0, c.call(s -> s.getReplicaListByRegex(
        GetReplicaListByRegexRequest.newBuilder().setKeyRegex("even/.*").build())).getReplicasCount());
  }
}
