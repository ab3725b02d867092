package io.runicquanta.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A set of {@link NodeProcess}es started together (in parallel: JVM start-up dominates) and closed
 * together; closing kills (SIGKILL) whatever still runs, so a failing test leaves no JVM behind.
 *
 * <pre>{@code
 * try (NodeCluster grid = NodeCluster.start(4, i -> NodeProcess.builder("n" + i, MAIN).args(...),
 *     Duration.ofMinutes(2))) {
 *   grid.node(2).kill();
 * }
 * }</pre>
 */
public final class NodeCluster implements AutoCloseable {
  private final List<NodeProcess> nodes;

  private NodeCluster(List<NodeProcess> nodes) {
    this.nodes = nodes;
  }

  /**
   * Starts {@code n} children and waits until every one printed READY; if one fails, all are killed
   * and the error names it with the end of its logs.
   *
   * @param n how many
   * @param builder the builder of child {@code i} (0-based)
   * @param timeout for all of them to be ready
   * @return the running cluster
   */
  public static NodeCluster start(int n, IntFunction<NodeProcess.Builder> builder, Duration timeout) {
    List<NodeProcess> started = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        started.add(builder.apply(i).start());
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      for (NodeProcess p : started) {
        p.awaitReady(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      }
      return new NodeCluster(List.copyOf(started));
    } catch (RuntimeException | Error e) {
      for (NodeProcess p : started) {
        p.close();
      }
      throw e;
    }
  }

  /** @return child {@code i} */
  public NodeProcess node(int i) {
    return nodes.get(i);
  }

  /** @return all children, in start order */
  public List<NodeProcess> nodes() {
    return nodes;
  }

  /** @return the children still running */
  public List<NodeProcess> alive() {
    return nodes.stream().filter(NodeProcess::isAlive).toList();
  }

  /** @return the child whose READY line named this node id, or null */
  public NodeProcess byNodeId(String nodeId) {
    for (NodeProcess p : nodes) {
      if (p.nodeId().equalsIgnoreCase(nodeId)) {
        return p;
      }
    }
    return null;
  }

  /** Stops every child with SIGTERM, waiting up to {@code grace} each, then SIGKILL. */
  public void stopAll(Duration grace) {
    for (NodeProcess p : nodes) {
      if (p.isAlive()) {
        p.process().destroy();
      }
    }
    for (NodeProcess p : nodes) {
      if (p.isAlive()) {
        p.stop(grace);
      }
    }
  }

  /** Kills (SIGKILL) every child that still runs. */
  @Override
  public void close() {
    for (NodeProcess p : nodes) {
      p.process().destroyForcibly();
    }
    for (NodeProcess p : nodes) {
      p.close();
    }
  }
}
