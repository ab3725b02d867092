package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.layout.ObjectLayout;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.cache.affinity.rendezvous.RendezvousAffinityFunction;
import org.apache.ignite.cluster.ClusterNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The master as a key-affinity singleton in-process: it runs on the primary node of its caches'
 * partition; the client finds it through the address cache and follows it when that node stops, or
 * when a joining node becomes the primary while calls are being made (a hand-over between two live
 * nodes); nothing acknowledged is lost. (The SIGKILL variant with separate processes is {@code
 * MasterFailoverIT}.)
 */
class MasterSingletonTest {

  @Test
  @Timeout(240)
  void masterMovesWhenItsNodeStopsAndKeepsAllMetadata() throws Exception {
    try (TestGrid grid = TestGrid.start("mb-single", 48520, 48620, 3, TestGrid.TEST_CONFIG);
        Ignite clientNode = Ignition.start(LocalGrid.config("mb-single-client", 48520, 48620, 10, 16, true));
        MasterClient c = MasterClient.connect(clientNode, Duration.ofSeconds(60))) {
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
      assertTrue(isPrimary(host), "the master runs on the primary of its caches' partition");
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
      c.putEnd("open", new int[open.shardCount()]);
      assertEquals(List.of(), grid.core().checkConsistency(), "rebuilt free space matches the caches");
      assertEquals(3, c.call(s -> s.listSegments(
          io.runicquanta.master.proto.ListSegmentsRequest.getDefaultInstance())).getSegmentsCount());
      assertTrue(isPrimary(grid.masterNode()), "the new master runs on the new primary");
    }
  }

  @Test
  @Timeout(240)
  void masterFollowsThePrimaryToAJoiningNodeWhileCallsRunAndLosesNothing() throws Exception {
    try (TestGrid grid = TestGrid.start("mb-join", 48530, 48630, 2, TestGrid.TEST_CONFIG);
        Ignite clientNode = Ignition.start(LocalGrid.config("mb-join-client", 48530, 48630, 10, 16, true));
        MasterClient c = MasterClient.connect(clientNode, Duration.ofSeconds(60))) {
      for (int i = 0; i < 3; i++) {
        c.mountSegment("seg" + i, "node" + i, "", 1L << 30, "tcp", "127.0.0.1:" + (9000 + i), new byte[0]);
      }
      Ignite first = grid.masterNode();
      assertTrue(isPrimary(first));
      // a writer keeps putting while the master moves; every put it saw acknowledged must survive
      Map<String, ObjectLayout> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread writer = new Thread(() -> {
        try {
          for (int i = 0; !stop.get(); i++) {
            String key = "w/" + i;
            ObjectLayout l = c.putStart(key, 10_000, 1, 16_384, 512);
            c.putEnd(key, new int[l.shardCount()]);
            acked.put(key, c.getReplicaList(key));
          }
        } catch (Throwable t) {
          failed.set(t);
        }
      }, "mb-join-writer");
      writer.start();
      TestGrid.sleep(300);
      // a consistent id that makes the joining node the partition's primary (rendezvous hashing
      // over the consistent ids of the server nodes), so the move happens on every run
      String id = primaryCandidate(first);
      Ignite joiner = grid.startServer(id);
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (grid.masterNode() != joiner) {
        assertTrue(System.nanoTime() < deadline, "the master did not move to the new primary in 60 s");
        TestGrid.sleep(50);
      }
      int before = acked.size();
      while (acked.size() < before + 20 && failed.get() == null) {
        assertTrue(System.nanoTime() < deadline, "no puts acknowledged by the new master");
        TestGrid.sleep(20);
      }
      stop.set(true);
      writer.join(30_000);
      assertEquals(null, failed.get(), "every call succeeded across the hand-over");
      assertEquals(joiner.cluster().localNode().id().toString(), c.address().nodeId(),
          "the client follows the master to the joining node");
      assertTrue(isPrimary(joiner));
      assertTrue(acked.size() > 20, acked.size() + " puts");
      for (Map.Entry<String, ObjectLayout> e : acked.entrySet()) {
        assertEquals(e.getValue(), c.getReplicaList(e.getKey()), e.getKey());
      }
      assertEquals(List.of(), grid.core().checkConsistency(), "rebuilt free space matches the caches");
    }
  }

  private static boolean isPrimary(Ignite node) {
    return node.affinity(MasterCaches.OBJECTS)
        .isPrimary(node.cluster().localNode(), MasterCaches.AFFINITY_KEY);
  }

  /**
   * @return a consistent id with which a joining server node becomes the primary of the master's
   *     single partition (computed with the caches' own affinity function)
   */
  private static String primaryCandidate(Ignite any) {
    RendezvousAffinityFunction aff = new RendezvousAffinityFunction(false, MasterCaches.PARTITIONS);
    List<ClusterNode> servers = new ArrayList<>(any.cluster().forServers().nodes());
    for (int n = 0; n < 10_000; n++) {
      String id = "mb-join-new-" + n;
      List<ClusterNode> all = new ArrayList<>(servers);
      ClusterNode candidate = nodeNamed(id);
      all.add(candidate);
      if (aff.assignPartition(0, all, 1, null).get(0) == candidate) {
        return id;
      }
    }
    throw new AssertionError("no consistent id found that takes the partition");
  }

  /** @return a node description carrying only a consistent id, for the affinity calculation */
  private static ClusterNode nodeNamed(String consistentId) {
    UUID id = UUID.randomUUID();
    return (ClusterNode) Proxy.newProxyInstance(
        ClusterNode.class.getClassLoader(), new Class<?>[] {ClusterNode.class},
        (proxy, m, args) -> switch (m.getName()) {
          case "consistentId" -> consistentId;
          case "id" -> id;
          case "isClient" -> false;
          case "attributes" -> Map.of();
          case "attribute" -> null;
          case "equals" -> proxy == args[0];
          case "hashCode" -> System.identityHashCode(proxy);
          case "toString" -> "candidate " + consistentId;
          default -> throw new UnsupportedOperationException(m.getName());
        });
  }
}
