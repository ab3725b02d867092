package io.runicquanta.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.master.MasterClient;
import io.runicquanta.master.MasterConsistencyProbe;
import io.runicquanta.master.proto.RemoveByRegexRequest;
import io.runicquanta.plugin.ObjectStat;
import io.runicquanta.plugin.RqException;
import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import io.runicquanta.testing.NodeProcess;
import io.runicquanta.testing.SplitMix64;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Node loss during self-healing, with real processes: four {@code rq node} JVMs (tcp transport,
 * repair capped at 1 MiB/s so a repair of a few MB runs for seconds) and this JVM as a client.
 * A node holding shards of m = 1 objects is killed with SIGKILL; once {@code stat} shows about two
 * thirds of the lost shards replaced, a second node (never the master's, as in {@link GridFaultIT})
 * is killed too, while the repair of the rest runs. Then
 * every object either reveals byte-identical or fails with DATA_LOSS naming a block, never wrong
 * bytes; once repair settles no object is being repaired, every object that still reveals is back
 * at tolerance 1 (the two survivors now hold K + h symbols each), the master's memory matches its
 * caches, and once everything is removed the live segments' free bytes are what they were on the
 * empty grid (no repair region leaked).
 */
class GridRepairIT {
  private static final int DISCO = 46230;
  private static final int COMM = 46330;

  private static byte[] revealAll(RqStore store, String key) throws IOException {
    try (InputStream in = store.reveal(key)) {
      return in.readAllBytes();
    }
  }

  /** Lost shards over the objects' parts (as {@code stat} counts them), and whether a repair is open. */
  record Lost(int lost, boolean repairing) {}

  private static Lost lostShards(RqStore store, Collection<String> keys) {
    int lost = 0;
    boolean repairing = false;
    for (String k : keys) {
      ObjectStat s = store.stat(k);
      lost += s.lostShards();
      repairing |= s.repairing();
    }
    return new Lost(lost, repairing);
  }

  @Test
  @Timeout(300)
  void sigkillOfASecondNodeWhileRepairRuns() throws Exception {
    try (NodeGrid g = NodeGrid.start("gf-repair", 4, DISCO, COMM, "64m",
        "--repair-bandwidth=1m", "--repair-interval=500")) {
      RqStore store = g.store();
      Map<String, Long> emptyFree = g.freeBySegment();
      assertEquals(4, emptyFree.size(), emptyFree.toString());
      StashOptions o = StashOptions.defaults().lossTolerance(1).blockSize(1 << 20).symbolSize(16384);
      Map<String, byte[]> objects = new LinkedHashMap<>();
      for (int i = 0; i < 8; i++) {
        byte[] d = SplitMix64.bytes(700 + i, 2_500_000 + 131 * i);
        String key = "heal/" + i;
        store.stash(key, d, o);
        objects.put(key, d);
      }
      long master = g.masterPid();
      List<NodeProcess> victims = g.shardHoldersWithoutMaster();
      assertTrue(victims.size() >= 2, "need two shard holders besides the master's node, got " + victims);
      long t0 = System.nanoTime();
      assertEquals(137, victims.get(0).kill());

      // the grid sees the loss (stat counts lost shards), then repair runs part by part: the
      // second SIGKILL comes once about two thirds of the lost shards are replaced, while the
      // rest are still being repaired, so some objects are whole again and some are not
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      int lost0 = 0;
      while (lost0 == 0) {
        assertTrue(System.nanoTime() < deadline, "the loss was not seen in 120 s");
        lost0 = lostShards(store, objects.keySet()).lost;
        Thread.sleep(100);
      }
      Lost left;
      while (true) {
        left = lostShards(store, objects.keySet());
        if (left.lost <= lost0 * 0.35) {
          break;
        }
        assertTrue(left.lost > 0, "the repair finished before the second SIGKILL: nothing was tested");
        assertTrue(System.nanoTime() < deadline, "repair made no progress in 120 s: " + left.lost
            + " of " + lost0 + " lost shards left");
      }
      System.out.printf("second SIGKILL %.1f s after the first: %d of %d lost shards still to"
          + " repair, a repair open: %s%n", (System.nanoTime() - t0) / 1e9, left.lost, lost0, left.repairing);
      NodeProcess second = null;
      for (NodeProcess p : g.cluster.alive()) {
        if (p.pid() != master) {
          second = p;
          break;
        }
      }
      assertTrue(second != null, "no second victim");
      assertEquals(137, second.kill(), "SIGKILL while the repair runs");
      assertEquals(2, g.cluster.alive().size());

      // every object: byte-identical or DATA_LOSS naming the block, never wrong bytes
      Map<String, byte[]> alive = new TreeMap<>();
      List<String> lost = new ArrayList<>();
      for (Map.Entry<String, byte[]> e : objects.entrySet()) {
        try {
          assertArrayEquals(e.getValue(), revealAll(store, e.getKey()), e.getKey());
          alive.put(e.getKey(), e.getValue());
        } catch (RqException ex) {
          assertEquals(RqException.Code.DATA_LOSS, ex.code(), ex.getMessage());
          assertTrue(ex.getMessage().matches("(?s).*block \\d+ cannot be recovered.*"), ex.getMessage());
          lost.add(e.getKey());
        }
      }
      System.out.println("after the second SIGKILL: revealed " + alive.keySet() + ", DATA_LOSS " + lost);

      // repair settles: nothing open, every revealable object back at tolerance 1
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
      while (true) {
        List<String> pending = new ArrayList<>();
        for (String k : objects.keySet()) {
          ObjectStat s = store.stat(k);
          boolean ok = !s.repairing() && (!alive.containsKey(k)
              || (s.lostShards() == 0 && s.tolerableNow() == 1 && s.health().equals("HEALTHY")));
          if (!ok) {
            pending.add(s.toString());
          }
        }
        if (pending.isEmpty()) {
          break;
        }
        assertTrue(System.nanoTime() < deadline, "repair did not settle in 150 s: " + pending);
        Thread.sleep(500);
      }
      System.out.printf("repair settled %.1f s after the first SIGKILL%n", (System.nanoTime() - t0) / 1e9);
      for (String k : lost) {
        try {
          revealAll(store, k);
          throw new AssertionError(k + " revealed after DATA_LOSS: not possible without new nodes");
        } catch (RqException ex) {
          assertEquals(RqException.Code.DATA_LOSS, ex.code(), ex.getMessage());
        }
      }
      // the repaired objects read, and so does a new stash on the two survivors
      for (Map.Entry<String, byte[]> e : alive.entrySet()) {
        assertArrayEquals(e.getValue(), revealAll(store, e.getKey()), e.getKey() + " after repair");
      }
      byte[] fresh = SplitMix64.bytes(799, 1_234_567);
      store.stash("heal/after", fresh, o);
      assertArrayEquals(fresh, revealAll(store, "heal/after"));
      objects.put("heal/after", fresh);

      Collection<List<String>> checks = g.client.ignite().compute(g.client.ignite().cluster().forServers())
          .broadcast(new MasterConsistencyProbe());
      int answered = 0;
      for (List<String> c : checks) {
        if (c != null) {
          assertEquals(List.of(), c, "master state after repair");
          answered++;
        }
      }
      assertEquals(1, answered, "one master answered: " + checks);

      // everything removed (parts of objects whose manifest is lost through the master): the live
      // segments' free bytes come back to the empty grid's, so no repair region is still held
      for (String k : objects.keySet()) {
        store.remove(k);
      }
      try (MasterClient mc = MasterClient.connect(g.client.ignite(), Duration.ofSeconds(60))) {
        mc.call(s -> s.removeByRegex(RemoveByRegexRequest.newBuilder().setKeyRegex("(?s).*").build()));
      }
      assertTrue(store.list(".*").isEmpty());
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Map<String, Long> expected = new TreeMap<>();
      Map<String, Long> now = g.freeBySegment();
      while (true) {
        expected.clear();
        for (String seg : now.keySet()) {
          expected.put(seg, emptyFree.get(seg));
        }
        if (expected.equals(now) || System.nanoTime() > deadline) {
          break;
        }
        Thread.sleep(500);
        now = g.freeBySegment();
      }
      assertEquals(2, now.size(), "two live segments: " + now);
      assertEquals(expected, now, "free bytes of the live segments once everything is removed");
    }
  }
}
