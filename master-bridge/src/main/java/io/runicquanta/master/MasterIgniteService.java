package io.runicquanta.master;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.cluster.ClusterNode;
import org.apache.ignite.resources.IgniteInstanceResource;
import org.apache.ignite.services.Service;
import org.apache.ignite.services.ServiceConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master as an Ignite service: one instance on every node that may host it ({@link
 * MasterHosts}), of which exactly one, the oldest such node, runs the master; the others wait to
 * take over.
 *
 * <h2>Election</h2>
 *
 * The master runs on the oldest server node that may host it ({@link MasterHosts#host}). Ignite's
 * discovery gives every node the same order of joins, so all instances agree on the host; a
 * joining node is always the youngest, so the host changes only when the host leaves the topology
 * (stopped, killed, or dropped by failure detection). The state caches put their one partition's
 * primary on the same node ({@link MasterAffinity}), so the master's group commit is a local
 * prepare plus one round trip to the backup, never a round trip to another node first: measured,
 * a PutStart + PutEnd pair from one thread 0.59-0.69 ms against 0.84-1.00 ms with the master
 * elsewhere (master-bridge/README.md, "Where the master runs").
 *
 * <p>(Before 2026-12-01 the master was an Ignite cluster singleton, placed by Ignite wherever its
 * assignment put it, on the caches' primary in about one grid in three. A key-affinity singleton
 * following the rendezvous primary was tried on 2026-11-30 and taken back: the primary could move
 * to a joining node, a hand-over between two live nodes, and once in CI no node ran the master
 * after a node left. Here the host never moves between live nodes, and the election is this
 * class's own code on Ignite's discovery view, not Ignite's service reassignment.)
 *
 * <h2>Hand-over</h2>
 *
 * Two masters must never decide at once: a new one rebuilds its state from the caches, without
 * the batches an old one may still commit. A new host therefore waits, before it reads the caches,
 * until the published address is gone, is its own, or names a node no longer in the topology (a
 * master on a node that left can commit nothing more: its transactions need the topology it is
 * out of). {@link #cancel()} (the node stops) first stops the gRPC server and the core, which
 * commits what it accepted ({@link MasterCore#close()}), and only then withdraws the address.
 *
 * <p>{@link #execute()} waits until this node is the host, then rebuilds the master's state from
 * the caches ({@link MasterCore}), starts the gRPC server on {@link MasterConfig#grpcHost()} and
 * publishes its address in the {@value MasterCaches#ADDRESS} cache, where {@link MasterClient}
 * finds it.
 *
 * <p>Deploy it by adding {@link #configuration(MasterConfig)} to every server node's {@code
 * IgniteConfiguration.setServiceConfiguration}, or with {@code
 * ignite.services().deploy(MasterIgniteService.configuration(cfg))}. Keep a node off the master
 * with the node attribute {@value MasterHosts#ATTR} = {@code "false"}, not with another node
 * filter: the election and the caches' affinity follow {@link MasterHosts}.
 */
public final class MasterIgniteService implements Service {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(MasterIgniteService.class);

  /** The service name. */
  public static final String NAME = "rq-master";

  private final MasterConfig cfg;

  @IgniteInstanceResource private transient Ignite ignite;

  private transient volatile MasterCore core;
  private transient volatile Server server;
  private transient volatile ExecutorService heavy;
  private transient volatile MasterAddress published;
  private transient CountDownLatch stopped;

  /**
   * @param cfg the master's settings
   */
  public MasterIgniteService(MasterConfig cfg) {
    this.cfg = Objects.requireNonNull(cfg, "cfg");
  }

  /** How often a waiting instance checks whether its node has become the host, ms. */
  static final long ELECTION_POLL_MS = 50;

  /**
   * @param cfg the master's settings
   * @return the service's configuration: one instance on every node that may host the master
   *     ({@link MasterHosts}), of which the oldest runs it
   */
  public static ServiceConfiguration configuration(MasterConfig cfg) {
    return new ServiceConfiguration()
        .setName(NAME)
        .setService(new MasterIgniteService(cfg))
        .setTotalCount(0)
        .setMaxPerNodeCount(1)
        .setNodeFilter(new MasterHosts());
  }

  @Override
  public void init() {
    stopped = new CountDownLatch(1);
  }

  @Override
  public void execute() throws InterruptedException {
    if (!awaitElection() || !awaitPredecessor()) {
      return; // cancelled while waiting
    }
    // Starting may fail while the topology is still changing (the node that hosted the master
    // just died); keep trying until it works or the service is cancelled. A core whose batch
    // could not be committed stops serving (see MasterCore); it is replaced by a fresh one that
    // rebuilds from the caches, as a new master on another node would.
    while (stopped.getCount() > 0) {
      try {
        start();
      } catch (RuntimeException | IOException e) {
        LOG.warn("master start failed; retrying in 500 ms", e);
        stopQuietly();
        if (stopped.await(500, TimeUnit.MILLISECONDS)) {
          return;
        }
        continue;
      }
      MasterCore c = core;
      while (!stopped.await(100, TimeUnit.MILLISECONDS)) {
        if (c.failed().isDone()) {
          LOG.warn("master core failed ({}); restarting it from the caches", c.failed().getNow(null));
          withdraw();
          stopQuietly();
          break;
        }
      }
    }
  }

  /**
   * Waits until this node is the master's host ({@link MasterHosts#host} of the server nodes in
   * this node's view of the topology).
   *
   * @return false if the service was cancelled meanwhile
   */
  private boolean awaitElection() throws InterruptedException {
    ClusterNode self = ignite.cluster().localNode();
    boolean told = false;
    while (true) {
      ClusterNode host = MasterHosts.host(ignite.cluster().forServers().nodes());
      if (host != null && host.id().equals(self.id())) {
        return true;
      }
      if (!told) {
        if (host == null) {
          LOG.warn("no server node may host the master (attribute {} is \"false\" on all of them);"
              + " no master runs until one that may joins", MasterHosts.ATTR);
        } else {
          LOG.info("standing by: the master's host is {} (oldest node that may host it)", host.id());
        }
        told = true;
      }
      if (stopped.await(ELECTION_POLL_MS, TimeUnit.MILLISECONDS)) {
        return false;
      }
    }
  }

  /**
   * Waits until no other master can still commit: the published address is gone (its master
   * stopped, see {@link #cancel()}), is this node's, or names a node no longer in the topology.
   *
   * @return false if the service was cancelled meanwhile
   */
  private boolean awaitPredecessor() throws InterruptedException {
    String self = ignite.cluster().localNode().id().toString();
    long t0 = System.nanoTime();
    long warned = t0;
    while (true) {
      MasterAddress a;
      try {
        a = MasterCaches.address(ignite).get(MasterCaches.ADDRESS_KEY);
      } catch (RuntimeException e) {
        LOG.warn("could not read the master address yet; retrying", e);
        if (stopped.await(200, TimeUnit.MILLISECONDS)) {
          return false;
        }
        continue;
      }
      if (a == null || a.nodeId().equals(self) || !alive(a.nodeId())) {
        if (a != null && !a.nodeId().equals(self)) {
          LOG.info("the previous master ({}) is gone after {} ms; taking over", a,
              (System.nanoTime() - t0) / 1_000_000);
        }
        return true;
      }
      if (System.nanoTime() - warned > 10_000_000_000L) {
        warned = System.nanoTime();
        LOG.warn("waiting for the previous master {} to stop ({} s so far)", a,
            (warned - t0) / 1_000_000_000L);
      }
      if (stopped.await(20, TimeUnit.MILLISECONDS)) {
        return false;
      }
    }
  }

  private boolean alive(String nodeId) {
    try {
      return ignite.cluster().node(UUID.fromString(nodeId)) != null;
    } catch (IllegalArgumentException e) {
      return false; // not a node id: no master of this grid published it
    }
  }

  private void start() throws IOException {
    long t0 = System.nanoTime();
    core = new MasterCore(ignite, cfg, System::currentTimeMillis);
    heavy =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "rq-master-batch");
              t.setDaemon(true);
              return t;
            });
    // direct executor: the handlers never block (MasterCore answers with futures), so they run on
    // the transport threads and a call costs no hand-off to a worker thread. Transport: gRPC's
    // default (NIO); native epoll measured no better (master-bridge/README.md, "Native epoll transport")
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(cfg.grpcHost(), cfg.grpcPort()))
            .addService(new MasterGrpcService(core, heavy))
            .directExecutor()
            .maxInboundMessageSize(64 << 20)
            .build()
            .start();
    MasterAddress addr =
        new MasterAddress(
            cfg.grpcHost(),
            server.getPort(),
            ignite.cluster().localNode().id().toString(),
            ProcessHandle.current().pid(),
            System.currentTimeMillis());
    MasterCaches.address(ignite).put(MasterCaches.ADDRESS_KEY, addr);
    published = addr;
    LOG.info("master serving at {} ({} ms to start; primary of its caches: {})", addr,
        (System.nanoTime() - t0) / 1_000_000, onPrimary());
  }

  /** @return whether this node is the primary of the master's caches' partition */
  boolean onPrimary() {
    ClusterNode p = ignite.affinity(MasterCaches.OBJECTS).mapPartitionToNode(0);
    return p != null && p.isLocal();
  }

  @Override
  public void cancel() {
    MasterAddress addr = published;
    // stop serving and committing first, then withdraw: a successor waits for the withdrawal (or
    // for this node to leave) before it reads the caches (see the class comment)
    stopQuietly();
    withdraw();
    if (stopped != null) {
      stopped.countDown();
    }
    LOG.info("master stopped ({})", addr);
  }

  private synchronized void withdraw() {
    MasterAddress addr = published;
    if (addr != null) {
      try {
        IgniteCache<String, MasterAddress> c = MasterCaches.address(ignite);
        c.remove(MasterCaches.ADDRESS_KEY, addr);
      } catch (RuntimeException e) {
        LOG.warn("could not withdraw the master address {}", addr, e);
      }
      published = null;
    }
  }

  private synchronized void stopQuietly() {
    Server s = server;
    server = null;
    if (s != null) {
      s.shutdown();
      try {
        if (!s.awaitTermination(5, TimeUnit.SECONDS)) {
          s.shutdownNow();
        }
      } catch (InterruptedException e) {
        s.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    MasterCore c = core;
    core = null;
    if (c != null) {
      c.close();
    }
    ExecutorService h = heavy;
    heavy = null;
    if (h != null) {
      h.shutdownNow();
    }
  }

  /** @return the running core on this node, or null; for tests and diagnostics */
  MasterCore core() {
    return core;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MasterIgniteService s && s.cfg.equals(cfg);
  }

  @Override
  public int hashCode() {
    return cfg.hashCode();
  }
}
