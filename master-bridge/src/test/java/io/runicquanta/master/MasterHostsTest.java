package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.apache.ignite.cluster.ClusterNode;
import org.junit.jupiter.api.Test;

/**
 * The election rule and the caches' placement agree: the master's host is the oldest node of the
 * best rank, and it is the first owner (the primary) of the master's partition, whatever order the
 * topology is listed in; joining nodes never displace it.
 */
class MasterHostsTest {

  @Test
  void hostIsTheOldestServerAndThePrimaryInAnyListing() {
    List<ClusterNode> nodes = new ArrayList<>();
    nodes.add(node(7, false, null));
    nodes.add(node(3, false, null));
    nodes.add(node(1, true, null)); // a client, oldest of all
    nodes.add(node(5, false, null));
    Random rnd = new Random(42);
    for (int i = 0; i < 20; i++) {
      Collections.shuffle(nodes, rnd);
      ClusterNode host = MasterHosts.host(nodes);
      assertEquals(3, host.order());
      List<ClusterNode> servers = new ArrayList<>(nodes);
      servers.removeIf(ClusterNode::isClient);
      List<ClusterNode> owners = MasterHosts.owners(servers, 2);
      assertEquals(List.of(3L, 5L), owners.stream().map(ClusterNode::order).toList());
      assertEquals(host, owners.get(0));
    }
  }

  @Test
  void attributeTrueComesFirstAndFalseNeverHosts() {
    ClusterNode plain = node(2, false, null);
    ClusterNode off = node(1, false, "false");
    ClusterNode on = node(4, false, "true");
    ClusterNode on2 = node(6, false, "true");
    List<ClusterNode> nodes = List.of(plain, off, on, on2);
    assertEquals(on, MasterHosts.host(nodes));
    assertEquals(List.of(on, on2, plain), MasterHosts.owners(nodes, 3));
    assertEquals(List.of(on, on2, plain, off), MasterHosts.owners(nodes, 9));
    assertFalse(new MasterHosts().apply(off));
    assertTrue(new MasterHosts().apply(plain));
    assertFalse(new MasterHosts().apply(node(9, true, null)));
    // once every "true" node has left, a node without the attribute hosts, never a "false" one
    assertEquals(plain, MasterHosts.host(List.of(plain, off)));
    assertEquals(plain, MasterHosts.owners(List.of(off, plain), 1).get(0));
    assertNull(MasterHosts.host(List.of(off, node(3, true, null))));
  }

  @Test
  void joinsNeverMoveTheHostAndTheNextOldestBackupTakesOver() {
    List<ClusterNode> nodes = new ArrayList<>(List.of(node(1, false, null), node(2, false, null),
        node(3, false, null)));
    ClusterNode host = MasterHosts.host(nodes);
    List<ClusterNode> owners = MasterHosts.owners(nodes, 2);
    for (long order = 4; order < 40; order++) {
      nodes.add(node(order, false, null));
      assertEquals(host, MasterHosts.host(nodes));
      assertEquals(owners, MasterHosts.owners(nodes, 2));
    }
    // the host leaves: its first backup, which holds every committed change, is the new host
    nodes.remove(host);
    assertEquals(owners.get(1), MasterHosts.host(nodes));
    assertEquals(owners.get(1), MasterHosts.owners(nodes, 2).get(0));
  }

  @Test
  void affinityFunctionHasOnePartition() {
    MasterAffinity a = new MasterAffinity();
    assertEquals(1, a.partitions());
    assertEquals(0, a.partition("any key"));
    assertEquals(0, a.partition(12345));
    assertEquals(a, new MasterAffinity());
  }

  /** A node description with an order, a client flag and the {@value MasterHosts#ATTR} value. */
  private static ClusterNode node(long order, boolean client, String hostAttr) {
    UUID id = UUID.randomUUID();
    return (ClusterNode) Proxy.newProxyInstance(
        ClusterNode.class.getClassLoader(), new Class<?>[] {ClusterNode.class},
        (proxy, m, args) -> switch (m.getName()) {
          case "order" -> order;
          case "isClient" -> client;
          case "id" -> id;
          case "attribute" -> MasterHosts.ATTR.equals(args[0]) ? hostAttr : null;
          case "equals" -> proxy == args[0];
          case "hashCode" -> System.identityHashCode(proxy);
          case "toString" -> "node " + order + (client ? " (client)" : "") + " " + hostAttr;
          default -> throw new UnsupportedOperationException(m.getName());
        });
  }
}
