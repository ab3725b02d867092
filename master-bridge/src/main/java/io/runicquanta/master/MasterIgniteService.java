package io.runicquanta.master;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.cluster.ClusterNode;
import org.apache.ignite.configuration.CacheConfiguration;
import org.apache.ignite.configuration.IgniteConfiguration;
import org.apache.ignite.lang.IgnitePredicate;
import org.apache.ignite.resources.IgniteInstanceResource;
import org.apache.ignite.services.Service;
import org.apache.ignite.services.ServiceConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master as an Ignite key-affinity singleton service: exactly one server node runs it, the
 * primary node of the single partition of its state caches ({@link MasterCaches}); when that
 * primary changes (the node leaves or dies, or a joining node takes the partition over once it has
 * the data), Ignite stops the master there and starts it on the new primary.
 *
 * <h2>Why on the primary</h2>
 *
 * Every call that changes state is answered after its group commit ({@link MasterCore}), one
 * Ignite transaction over keys of that one partition. From any other node that transaction is a
 * round trip to the primary, which then writes to the backup and answers; on the primary it is a
 * local prepare plus the round trip to the backup: one cross-process hop (and the wake-ups of the
 * threads at its ends) less per call. As a plain cluster singleton the master sat on the primary
 * in one case out of the number of server nodes.
 *
 * <h2>Hand-over</h2>
 *
 * When the primary moves between live nodes, Ignite cancels the old instance and starts the new one
 * at the same time, on different nodes. Two masters must never decide at once: the new one would
 * rebuild its state without the batches the old one still commits (and then hand out their space
 * again). So {@link #cancel()} first stops the gRPC server and the core (which commits what it has
 * accepted, see {@link MasterCore#close()}) and only then withdraws its address; and a starting
 * master waits, before it reads the caches, until the published address is gone or belongs to a
 * node that has left the topology (a killed master: nothing of it can commit any more). A master
 * that restarts its failed core on the same node does not wait for itself.
 *
 * <p>{@link #execute()} rebuilds the master's state from the caches ({@link MasterCore}), starts
 * the gRPC server on {@link MasterConfig#grpcHost()} and publishes its address in the {@value
 * MasterCaches#ADDRESS} cache, where {@link MasterClient} finds it.
 *
 * <p>Deploy it with {@link #configure(IgniteConfiguration, MasterConfig)} on every server node
 * (static: the state caches and the service), or once with {@link #deploy(Ignite, MasterConfig,
 * IgnitePredicate)} on a running node. The caches must exist before the service: Ignite places an
 * affinity service by its cache, and does not deploy one whose cache is missing. Restricted to some
 * server nodes ({@code deploy} with a host filter, as the grid plugin's {@code hostMaster} does),
 * the master is a plain cluster singleton among them instead, and pays the cross-node commit.
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

  /**
   * @param cfg the master's settings
   * @return the service's configuration: one instance, on the primary node of {@link
   *     MasterCaches#AFFINITY_KEY} in {@value MasterCaches#OBJECTS}; that cache (and the other state
   *     caches) must exist when it is deployed: use {@link #configure} or {@link #deploy}
   */
  public static ServiceConfiguration configuration(MasterConfig cfg) {
    return new ServiceConfiguration()
        .setName(NAME)
        .setService(new MasterIgniteService(cfg))
        .setCacheName(MasterCaches.OBJECTS)
        .setAffinityKey(MasterCaches.AFFINITY_KEY)
        .setTotalCount(1)
        .setMaxPerNodeCount(1);
  }

  /**
   * Adds the master's state caches and its service to a server node's configuration (keeping the
   * caches and services already there). Do it on every server node (the caches, with no node
   * filter, live on every server node anyway, once one node has started them).
   *
   * @param c the node's configuration
   * @param cfg the master's settings
   * @return {@code c}
   */
  public static IgniteConfiguration configure(IgniteConfiguration c, MasterConfig cfg) {
    List<CacheConfiguration<?, ?>> caches = new ArrayList<>();
    if (c.getCacheConfiguration() != null) {
      for (CacheConfiguration<?, ?> cc : c.getCacheConfiguration()) {
        caches.add(cc);
      }
    }
    caches.addAll(MasterCaches.configurations(cfg.cacheBackups()));
    c.setCacheConfiguration(caches.toArray(new CacheConfiguration<?, ?>[0]));
    List<ServiceConfiguration> services = new ArrayList<>();
    if (c.getServiceConfiguration() != null) {
      services.addAll(Arrays.asList(c.getServiceConfiguration()));
    }
    services.add(configuration(cfg));
    c.setServiceConfiguration(services.toArray(new ServiceConfiguration[0]));
    return c;
  }

  /**
   * Deploys the master (if not deployed yet) from a running node.
   *
   * <p>Without {@code hosts}: creates the state caches (if missing) and deploys the key-affinity
   * service, so the master runs on the caches' primary. With {@code hosts}: deploys a cluster
   * singleton on one of those nodes (usually not the primary). An affinity service ignores node
   * filters, and the other way to keep it on the hosts, caches held by the hosts only, breaks
   * Ignite's service deployment: a server node outside the caches' nodes must fetch their affinity
   * from another node for every deployment round, and when that fails (the node stops meanwhile)
   * its error makes the other nodes undeploy the master (seen in the grid plugin's tests).
   *
   * @param ignite a started node
   * @param cfg the master's settings
   * @param hosts the server nodes that may host the master, or null for all server nodes
   */
  public static void deploy(Ignite ignite, MasterConfig cfg, IgnitePredicate<ClusterNode> hosts) {
    if (hosts == null) {
      for (CacheConfiguration<?, ?> cc : MasterCaches.configurations(cfg.cacheBackups())) {
        ignite.getOrCreateCache(cc);
      }
      ignite.services().deploy(configuration(cfg));
    } else {
      ignite.services().deploy(
          new ServiceConfiguration()
              .setName(NAME)
              .setService(new MasterIgniteService(cfg))
              .setTotalCount(1)
              .setMaxPerNodeCount(1)
              .setNodeFilter(hosts));
    }
  }

  @Override
  public void init() {
    stopped = new CountDownLatch(1);
  }

  @Override
  public void execute() throws InterruptedException {
    // Starting may fail while the topology is still changing (the node that hosted the master
    // just died); keep trying until it works or the service is cancelled. A core whose batch
    // could not be committed stops serving (see MasterCore); it is replaced by a fresh one that
    // rebuilds from the caches, as a new master on another node would.
    try {
      serve();
    } finally {
      if (stopped.getCount() == 0) {
        // cancelled while starting: cancel() may have run before the server or core existed
        stopQuietly();
        withdraw();
      }
    }
  }

  private void serve() throws InterruptedException {
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
      if (c == null) {
        return; // cancelled while waiting for the previous master
      }
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
   * Waits until no other master can still commit: the published address is gone (its master
   * stopped, see {@link #cancel()}), is this node's, or names a node no longer in the topology.
   *
   * @return false if this service was cancelled meanwhile
   */
  private boolean awaitPredecessor() throws InterruptedException {
    IgniteCache<String, MasterAddress> addrs = MasterCaches.address(ignite);
    UUID self = ignite.cluster().localNode().id();
    long t0 = System.nanoTime();
    long warned = t0;
    while (true) {
      MasterAddress a = addrs.get(MasterCaches.ADDRESS_KEY);
      if (a == null || a.nodeId().equals(self.toString()) || !alive(a.nodeId())) {
        if (System.nanoTime() - t0 > 100_000_000L) {
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

  private void start() throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    if (!awaitPredecessor()) {
      return;
    }
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
    // the transport threads and a call costs no hand-off to a worker thread
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
        (System.nanoTime() - t0) / 1_000_000,
        ignite.affinity(MasterCaches.OBJECTS).isPrimary(ignite.cluster().localNode(), MasterCaches.AFFINITY_KEY));
  }

  @Override
  public void cancel() {
    MasterAddress addr = published;
    // stop serving and committing first, then withdraw: a successor waits for the withdrawal
    // before it reads the caches (see the class comment)
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
      for (int attempt = 1; attempt <= 3; attempt++) {
        try {
          IgniteCache<String, MasterAddress> c = MasterCaches.address(ignite);
          c.remove(MasterCaches.ADDRESS_KEY, addr);
          break;
        } catch (RuntimeException e) {
          LOG.warn("could not withdraw the master address {} (attempt {} of 3)", addr, attempt, e);
        }
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
