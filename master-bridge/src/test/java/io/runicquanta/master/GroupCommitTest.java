package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.master.proto.PutStartRequest;
import io.runicquanta.master.proto.Redundancy;
import io.runicquanta.master.proto.ReplicaInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.IgniteException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Group commit (see {@link MasterCore}): concurrent calls share one Ignite transaction, no call is
 * answered before its change is in the caches, answers that depend on a change wait for it, and a
 * batch that cannot commit makes the master restart from the caches without phantom state.
 */
class GroupCommitTest {
  static final int N = 20;
  TestGrid grid;
  MasterClient c;
  ExecutorService pool;

  @BeforeEach
  void setUp() {
    grid = TestGrid.shared();
    c = grid.client();
    grid.reset();
    for (int i = 1; i <= 3; i++) {
      c.mountSegment("g" + i, "n" + i, "", 64 << 20, "tcp", "127.0.0.1:1", new byte[0]);
    }
    pool = Executors.newFixedThreadPool(N + 1);
  }

  @AfterEach
  void tearDown() {
    MasterCore core = grid.core();
    core.holdCommits(false);
    core.failCommits(0, null);
    pool.shutdownNow();
  }

  /** Reads the objects cache directly, from a node of the grid (not through the master). */
  ObjectRecord stored(String key) {
    IgniteCache<String, ObjectRecord> objects = MasterCaches.objects(grid.nodes.get(0), 1);
    return objects.get(key);
  }

  static ObjectLayout layoutOf(ObjectRecord r) throws Exception {
    return LayoutProtos.fromProto(
        LayoutProtos.withStatus(ReplicaInfo.parseFrom(r.layout()), ReplicaInfo.ReplicaStatus.INITIALIZED, null));
  }

  @Test
  void concurrentCallsShareOneTransactionAndNoneIsAnsweredBeforeItIsInTheCaches() throws Exception {
    MasterCore core = grid.core();
    long[] before = core.commitCounts();
    core.holdCommits(true);
    List<Future<ObjectLayout>> starts = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      String key = "gc/" + i;
      starts.add(pool.submit(() -> c.putStart(key, 20_000, 1, 8192, 256)));
    }
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (core.openChanges() < N) {
      assertTrue(System.nanoTime() < deadline, "only " + core.openChanges() + " of " + N + " calls arrived");
      TestGrid.sleep(10);
    }
    // a racing PutStart on a key that is placed but not durable: its ALREADY_EXISTS waits too
    Future<Status.Code> racer = pool.submit(() -> {
      try {
        c.putStart("gc/0", 20_000, 1, 8192, 256);
        return Status.Code.OK;
      } catch (StatusRuntimeException e) {
        return e.getStatus().getCode();
      }
    });
    TestGrid.sleep(300);
    for (int i = 0; i < N; i++) {
      assertFalse(starts.get(i).isDone(), "PutStart " + i + " was answered before its commit");
      assertNull(stored("gc/" + i), "gc/" + i + " is in the cache before its batch committed");
    }
    assertFalse(racer.isDone(), "an answer that depends on an uncommitted PutStart came early");

    core.holdCommits(false);
    List<ObjectLayout> layouts = new ArrayList<>();
    for (Future<ObjectLayout> f : starts) {
      layouts.add(f.get(30, TimeUnit.SECONDS));
    }
    assertEquals(Status.Code.ALREADY_EXISTS, racer.get(30, TimeUnit.SECONDS));
    long[] after = core.commitCounts();
    assertEquals(1, after[0] - before[0], "the " + N + " PutStarts were committed in one batch");
    assertEquals(N, after[1] - before[1]);
    for (int i = 0; i < N; i++) {
      ObjectRecord r = stored("gc/" + i);
      assertNotNull(r, "acknowledged PutStart of gc/" + i + " is not in the cache");
      assertEquals(ObjectRecord.INITIALIZED, r.status());
      assertEquals(layouts.get(i), layoutOf(r));
    }

    // PutEnds from many threads: each one, once answered, is in the cache
    List<Future<?>> ends = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      int idx = i;
      ends.add(pool.submit(() -> {
        String key = "gc/" + idx;
        int[] crcs = new int[layouts.get(idx).shardCount()];
        Arrays.fill(crcs, 0x5EED0000 + idx);
        c.putEnd(key, crcs);
        ObjectRecord r = stored(key);
        assertEquals(ObjectRecord.COMPLETE, r.status(), key + " acknowledged but not complete in the cache");
        assertArrayEquals(crcs, r.crc32c());
        return null;
      }));
    }
    for (Future<?> f : ends) {
      f.get(30, TimeUnit.SECONDS);
    }
    // Remove: acknowledged means gone from the cache (its space waits for the read lease there)
    c.getReplicaList("gc/0");
    assertTrue(c.call(s -> s.remove(io.runicquanta.master.proto.RemoveRequest.newBuilder()
        .setKey("gc/0").build())).getSpaceDeferred());
    assertNull(stored("gc/0"));
    assertEquals(List.of(), core.checkConsistency());
  }

  @Test
  void aBatchThatCannotCommitIsRetriedThenTheMasterRestartsFromTheCaches() throws Exception {
    MasterCore core = grid.core();
    // one failed attempt: retried, the call succeeds and is durable
    core.failCommits(1, new IgniteException("injected commit failure"));
    ObjectLayout kept = c.putStart("gc/kept", 20_000, 1, 8192, 256);
    assertNotNull(stored("gc/kept"));

    // every attempt fails: the call is refused (UNAVAILABLE, no failover on this raw stub), and
    // the master restarts from the caches
    core.failCommits(MasterCore.COMMIT_ATTEMPTS, new IgniteException("injected commit failure"));
    PutStartRequest lost = PutStartRequest.newBuilder()
        .setKey("gc/lost")
        .setSize(20_000)
        .setRedundancy(Redundancy.newBuilder().setLossTolerance(1).setBlockSize(8192).setSymbolSize(256))
        .build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> c.stub().putStart(lost));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().getDescription());
    assertNull(stored("gc/lost"));
    long deadline = System.nanoTime() + 30_000_000_000L;
    MasterCore fresh = grid.core();
    while (fresh == core) {
      assertTrue(System.nanoTime() < deadline, "the master did not restart after a failed commit");
      TestGrid.sleep(20);
      fresh = grid.core();
    }
    // the acknowledged put survived, the refused one left nothing behind
    int[] crcs = new int[kept.shardCount()];
    c.putEnd("gc/kept", crcs);
    assertEquals(kept, c.getReplicaList("gc/kept"));
    c.putStart("gc/lost", 20_000, 1, 8192, 256);
    assertEquals(List.of(), fresh.checkConsistency());
  }
}
