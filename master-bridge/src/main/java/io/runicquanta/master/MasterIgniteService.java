package io.runicquanta.master;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.cluster.ClusterNode;
import org.apache.ignite.lang.IgnitePredicate;
import org.apache.ignite.resources.IgniteInstanceResource;
import org.apache.ignite.services.Service;
import org.apache.ignite.services.ServiceConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master as an Ignite cluster-singleton service: exactly one server node runs it; when that
 * node leaves or dies, Ignite starts it on another server node.
 *
 * <p>{@link #execute()} rebuilds the master's state from the caches ({@link MasterCore}), starts
 * the gRPC server on {@link MasterConfig#grpcHost()} and publishes its address in the {@value
 * MasterCaches#ADDRESS} cache, where {@link MasterClient} finds it. {@link #cancel()} withdraws
 * the address (if still its own) and stops the server and the reaper.
 *
 * <p>Deploy it by adding {@link #configuration(MasterConfig)} to every server node's {@code
 * IgniteConfiguration.setServiceConfiguration}, or with {@code
 * ignite.services().deploy(MasterIgniteService.configuration(cfg))}.
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
   * @return a cluster-singleton configuration (one instance, server nodes only)
   */
  public static ServiceConfiguration configuration(MasterConfig cfg) {
    return new ServiceConfiguration()
        .setName(NAME)
        .setService(new MasterIgniteService(cfg))
        .setTotalCount(1)
        .setMaxPerNodeCount(1)
        .setNodeFilter(new ServerNodes());
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
    LOG.info("master serving at {} ({} ms to start)", addr, (System.nanoTime() - t0) / 1_000_000);
  }

  @Override
  public void cancel() {
    MasterAddress addr = published;
    withdraw();
    stopQuietly();
    if (stopped != null) {
      stopped.countDown();
    }
    LOG.info("master stopped ({})", addr);
  }

  private void withdraw() {
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

  private void stopQuietly() {
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

  /** Node filter: server nodes only. */
  static final class ServerNodes implements IgnitePredicate<ClusterNode> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean apply(ClusterNode node) {
      return !node.isClient();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ServerNodes;
    }

    @Override
    public int hashCode() {
      return 1;
    }
  }
}
