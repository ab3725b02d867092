package io.runicquanta.master;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import org.apache.ignite.cluster.ClusterNode;
import org.apache.ignite.lang.IgnitePredicate;

/**
 * Which nodes may host the master, and which of them does: the one rule that the master's election
 * ({@link MasterIgniteService}) and the placement of its caches' partition ({@link MasterAffinity})
 * share, so that the master runs on the primary node of the data it commits.
 *
 * <p>Server nodes are ranked by their attribute {@value #ATTR}: {@code "true"} first (the grid
 * plugin sets it from its {@code hostMaster} setting), then nodes without the attribute (plain
 * master-bridge nodes, {@code MasterNodeMain}), and {@code "false"} never hosts. The master runs on
 * the <b>oldest</b> node (lowest discovery order) of the best rank present. Ignite's discovery
 * orders nodes the same way on every node, a node's order and attributes never change, and a
 * joining node is always the youngest, so the host changes only when the host itself leaves the
 * topology, never between two live nodes. (One exception, by design: in a grid whose {@code "true"}
 * nodes have all left, a node without the attribute takes over; a later {@code "true"} node that
 * joins takes the master back, as the primary moves to it.)
 */
public final class MasterHosts implements IgnitePredicate<ClusterNode> {
  private static final long serialVersionUID = 1L;

  /** Node attribute: {@code "true"} prefers the node for the master, {@code "false"} keeps it off. */
  public static final String ATTR = "rq.hostMaster";

  /** Orders nodes by rank, then oldest first. */
  static final Comparator<ClusterNode> PREFERENCE =
      Comparator.comparingInt(MasterHosts::rank).thenComparingLong(ClusterNode::order);

  /**
   * @param node a node
   * @return 0 for a server node with {@value #ATTR} "true", 1 for one without it, 2 for "false" and
   *     3 for a client node
   */
  static int rank(ClusterNode node) {
    if (node.isClient()) {
      return 3;
    }
    Object a = node.attribute(ATTR);
    return "true".equals(a) ? 0 : "false".equals(a) ? 2 : 1;
  }

  /**
   * @param node a node
   * @return whether it may host the master (where the service keeps an instance)
   */
  public static boolean eligible(ClusterNode node) {
    return rank(node) <= 1;
  }

  /**
   * @param nodes nodes of one topology
   * @return the node among them that hosts the master (the oldest of the best rank), or null if
   *     none may
   */
  public static ClusterNode host(Collection<ClusterNode> nodes) {
    ClusterNode best = null;
    for (ClusterNode n : nodes) {
      if (eligible(n) && (best == null || PREFERENCE.compare(n, best) < 0)) {
        best = n;
      }
    }
    return best;
  }

  /**
   * @param nodes the nodes holding a cache (server nodes of one topology)
   * @param copies primary plus backups
   * @return the owners of the master's partition, primary first, in {@link #PREFERENCE} order (so
   *     the primary is {@link #host}'s node whenever there is one), at most {@code copies}
   */
  static List<ClusterNode> owners(Collection<ClusterNode> nodes, int copies) {
    List<ClusterNode> sorted = new ArrayList<>(nodes);
    sorted.sort(PREFERENCE);
    return new ArrayList<>(sorted.subList(0, Math.min(copies, sorted.size())));
  }

  @Override
  public boolean apply(ClusterNode node) {
    return eligible(node);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MasterHosts;
  }

  @Override
  public int hashCode() {
    return 11;
  }
}
