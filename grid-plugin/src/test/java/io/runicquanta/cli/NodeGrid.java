package io.runicquanta.cli;

import io.runicquanta.master.MasterClient;
import io.runicquanta.plugin.ClusterStatus;
import io.runicquanta.plugin.RqStore;
import io.runicquanta.testing.NodeCluster;
import io.runicquanta.testing.NodeProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * For multi-process tests: {@code n} {@code rq node} JVMs (tcp transport, 127.0.0.1, this class's
 * own port range plus {@code RQ_GRID_PORT_SHIFT}) started through test-support's {@link
 * NodeCluster}, and this JVM joined as a client with the plugin. Closing stops the client and kills
 * every node. Logs: {@code target/tmp/node-logs/<prefix>-<i>.out|.err}.
 */
final class NodeGrid implements AutoCloseable {
  final String prefix;
  final int discoveryPort;
  final int commPort;
  final NodeCluster cluster;
  final GridClient client;

  private NodeGrid(String prefix, int discoveryPort, int commPort, NodeCluster cluster, GridClient client) {
    this.prefix = prefix;
    this.discoveryPort = discoveryPort;
    this.commPort = commPort;
    this.cluster = cluster;
    this.client = client;
  }

  /**
   * @param prefix node name prefix (unique per test class)
   * @param n nodes
   * @param discoveryPort first discovery port (10 ports); comm ports start at {@code commPort}
   * @param segmentSize bytes per node segment, e.g. "96m"
   * @param extraNodeArgs more {@code rq node} flags
   */
  static NodeGrid start(String prefix, int n, int discoveryPort, int commPort, String segmentSize,
      String... extraNodeArgs) {
    List<String> args = new ArrayList<>(List.of(
        "node", "--discovery-port=" + discoveryPort, "--comm-port=" + commPort, "--port-range=10",
        "--segment-size=" + segmentSize, "--transport=tcp", "--exit-on-stdin-close", "--region-size=32m",
        "--failure-detection-timeout=30"));
    args.addAll(List.of(extraNodeArgs));
    NodeCluster cluster = NodeCluster.start(n, i -> NodeProcess.builder(prefix + "-" + i, RqCli.class.getName())
        .heap("160m").jvmOption("-XX:TieredStopAtLevel=1").args(args).args("--name=" + prefix + "-" + i),
        Duration.ofMinutes(3));
    try {
      GridClient client = GridClient.connect(
          new GridSettings(discoveryPort, commPort, 10, List.of(), "127.0.0.1", 16), "tcp", 1, 60_000);
      return new NodeGrid(prefix, discoveryPort, commPort, cluster, client);
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  RqStore store() {
    return client.store();
  }

  /** Client command line flags that reach this grid. */
  String[] clientFlags() {
    return new String[] {"--discovery-port=" + discoveryPort, "--comm-port=" + commPort, "--connect-timeout=60"};
  }

  /** @return pid of the node hosting the master now */
  long masterPid() {
    try (MasterClient mc = MasterClient.connect(client.ignite(), Duration.ofSeconds(60))) {
      return mc.address().pid();
    }
  }

  /** @return shards the node's segment holds (from the master's view) */
  long shardsOn(NodeProcess p) {
    String id = p.nodeId();
    return store().status().segments().stream().filter(s -> s.nodeId().equalsIgnoreCase(id))
        .mapToLong(ClusterStatus.SegmentStatus::shards).sum();
  }

  /** Nodes that hold shards and do not host the master, in start order. */
  List<NodeProcess> shardHoldersWithoutMaster() {
    long master = masterPid();
    List<NodeProcess> out = new ArrayList<>();
    for (NodeProcess p : cluster.alive()) {
      if (p.pid() != master && shardsOn(p) > 0) {
        out.add(p);
      }
    }
    return out;
  }

  /** Free bytes of the segments whose nodes are alive. */
  long liveFreeBytes() {
    return store().status().segments().stream().filter(ClusterStatus.SegmentStatus::alive)
        .mapToLong(ClusterStatus.SegmentStatus::freeBytes).sum();
  }

  /** Free bytes per segment of a live node, by segment name. */
  java.util.Map<String, Long> freeBySegment() {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    for (ClusterStatus.SegmentStatus s : store().status().segments()) {
      if (s.alive()) {
        out.put(s.name(), s.freeBytes());
      }
    }
    return out;
  }

  /**
   * Waits until the client sees {@code servers} server nodes and every server has finished
   * rebalancing the master's caches ({@code rq-master-*}), so their backups are whole again.
   * Runs a job on the servers (their classpath is this test's).
   */
  void awaitMasterRebalanced(int servers) throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
    while (client.ignite().cluster().forServers().nodes().size() != servers) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the client never saw " + servers + " server nodes");
      }
      Thread.sleep(200);
    }
    client.ignite().compute(client.ignite().cluster().forServers()).broadcast(new Rebalanced());
  }

  /** On a server: waits for the rebalancing of every master cache to finish. */
  static final class Rebalanced implements org.apache.ignite.lang.IgniteRunnable {
    private static final long serialVersionUID = 1L;

    @org.apache.ignite.resources.IgniteInstanceResource
    private transient org.apache.ignite.Ignite ignite;

    @Override
    @SuppressWarnings("deprecation")
    public void run() {
      for (String name : ignite.cacheNames()) {
        if (name.startsWith("rq-master")) {
          ignite.cache(name).rebalance().get();
        }
      }
    }
  }

  Path logDir() {
    return cluster.node(0).stdoutFile().getParent();
  }

  @Override
  public void close() {
    try {
      client.close();
    } finally {
      cluster.close();
    }
  }
}
