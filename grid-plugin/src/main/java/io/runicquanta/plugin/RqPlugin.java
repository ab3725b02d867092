package io.runicquanta.plugin;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.runicquanta.master.MasterClient;
import io.runicquanta.master.MasterConfig;
import io.runicquanta.master.MasterIgniteService;
import io.runicquanta.transfer.Segment;
import io.runicquanta.transfer.TransferEngine;
import io.runicquanta.transfer.TransferEngineBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.ignite.Ignite;
import org.apache.ignite.plugin.IgnitePlugin;
import org.apache.ignite.plugin.PluginNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Runic Quanta plugin of one started Ignite node: its Arrow allocator, transfer engine,
 * segment, master client and {@link RqStore}.
 *
 * <h2>Start (in this order; {@link #stop()} undoes it in reverse)</h2>
 *
 * <ol>
 *   <li>a child of the process-wide root allocator, limited to segment size + {@link
 *       RqPluginConfiguration#maxMemory()} (staging, encode and decode work is paid from it);
 *   <li>a {@link TransferEngine} with the configured transport, rails and options;
 *   <li>on a server node with a non-zero segment size, the storage segment ({@code
 *       engine.allocateSegment});
 *   <li>on a server node with {@code hostMaster}, the master's deployment (it runs on the oldest
 *       node with the {@value RqPluginProvider#ATTR_HOST_MASTER} attribute "true", on the primary
 *       of its caches, and moves when that node leaves: {@code MasterHosts});
 *   <li>a {@link MasterClient} that finds the master through the grid;
 *   <li>MountSegment: name {@code rq-<node id>}, node id, failure domain, size, transport, first
 *       rail address and the segment descriptor ({@code SegmentDescriptor.toBytes()}) as remote key.
 * </ol>
 *
 * <p>A client node, or a server node with segment size 0, mounts nothing but can stash and reveal.
 * Stop unmounts the segment only if it holds no live shards (otherwise it stays mounted: the
 * master then sees its node as gone and readers skip it) and frees everything.
 */
public final class RqPlugin implements IgnitePlugin {
  private static final Logger LOG = LoggerFactory.getLogger(RqPlugin.class);
  private static final BufferAllocator ROOT = new RootAllocator(Long.MAX_VALUE);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Ignite ignite;
  private final RqPluginConfiguration cfg;
  private final BufferAllocator allocator;
  private final TransferEngine engine;
  private final Segment segment;
  private final MasterClient master;
  private final ExecutorService workers;
  private final GridStore store;
  private final Repairer repairer;
  private volatile boolean stopped;

  private RqPlugin(Ignite ignite, RqPluginConfiguration cfg, BufferAllocator allocator,
      TransferEngine engine, Segment segment, MasterClient master, ExecutorService workers) {
    this.ignite = ignite;
    this.cfg = cfg;
    this.allocator = allocator;
    this.engine = engine;
    this.segment = segment;
    this.master = master;
    this.workers = workers;
    this.store = ignite == null ? null : new GridStore(this);
    this.repairer = store == null || ignite.cluster().localNode().isClient()
        ? null : new Repairer(ignite, store, cfg);
  }

  /** A placeholder before the node started (what {@code ignite.plugin(NAME)} gives so early). */
  static RqPlugin unstarted(RqPluginConfiguration cfg) {
    return new RqPlugin(null, cfg, null, null, null, null, null);
  }

  /**
   * The plugin of a started node.
   *
   * @param ignite a started node
   * @return its plugin
   * @throws IllegalStateException if the node does not run the Runic Quanta plugin (the jar is not
   *     on its classpath) or it is not started or already stopped
   */
  public static RqPlugin of(Ignite ignite) {
    RqPlugin p;
    try {
      p = ignite.plugin(RqPluginProvider.NAME);
    } catch (PluginNotFoundException e) {
      throw new IllegalStateException(
          "node '" + ignite.name() + "' does not run the Runic Quanta plugin ("
              + RqPluginProvider.NAME + "): put the grid-plugin jar on its classpath", e);
    }
    if (p != null && p.store == null && p.cfg == null) {
      throw new IllegalStateException(
          "node '" + ignite.name() + "' has the Runic Quanta jar but no RqPluginConfiguration, so the"
              + " plugin is off there: add IgniteConfiguration.setPluginConfigurations("
              + "RqPluginConfiguration.builder()...build()) to the node's configuration");
    }
    if (p == null || p.store == null) {
      throw new IllegalStateException(
          "the Runic Quanta plugin of node '" + ignite.name() + "' is not started yet");
    }
    if (p.stopped) {
      throw new IllegalStateException(
          "the Runic Quanta plugin of node '" + ignite.name() + "' is stopped");
    }
    return p;
  }

  static RqPlugin start(Ignite ignite, RqPluginConfiguration cfg) {
    boolean client = ignite.cluster().localNode().isClient();
    String nodeId = ignite.cluster().localNode().id().toString();
    long seg = client ? 0 : cfg.segmentSize();
    BufferAllocator alloc =
        ROOT.newChildAllocator("rq-node-" + ignite.name() + "-" + nodeId, 0, seg + cfg.maxMemory());
    TransferEngine engine = null;
    Segment segment = null;
    MasterClient master = null;
    ExecutorService workers = null;
    try {
      TransferEngineBuilder b =
          TransferEngine.builder()
              .name("rq-" + nodeId.substring(0, 8))
              .allocator(alloc)
              .transport(cfg.transport())
              .rails(cfg.rails());
      for (Map.Entry<String, String> e : cfg.transportOptions().entrySet()) {
        b.option(e.getKey(), e.getValue());
      }
      engine = b.build();
      if (seg > 0) {
        segment = engine.allocateSegment(segmentName(nodeId), seg);
      }
      if (!client && cfg.hostMaster()) {
        // an instance on every node that may host the master; the oldest of the nodes with
        // hostMaster runs it (MasterHosts), on the primary of its caches (MasterAffinity)
        ignite.services().deploy(
            MasterIgniteService.configuration(
                MasterConfig.builder()
                    .grpcPort(cfg.masterPort())
                    .cacheBackups(cfg.masterBackups())
                    .build()));
      }
      master = MasterClient.connect(ignite, Duration.ofSeconds(60));
      if (segment != null) {
        byte[] desc = segment.descriptor().toBytes();
        String address =
            new String(segment.descriptor().rails().get(0).address(), StandardCharsets.UTF_8);
        master.mountSegment(segment.name(), nodeId, cfg.failureDomain(), seg, engine.transport(),
            address, desc);
      }
      // A block's work both computes (encode, decode, CRC32C) and waits (master calls, transfers),
      // on the same worker: with one worker per core the cores idle during the waits. Twice the
      // cores keeps them busy (measured: stash 0.49x -> 0.68x of the codec, reveal 0.55x -> 1.54x).
      int n = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
      ThreadFactory tf = r -> {
        Thread t = new Thread(r, "rq-worker-" + ignite.name() + "-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
      };
      workers = Executors.newFixedThreadPool(n, tf);
      RqPlugin p = new RqPlugin(ignite, cfg, alloc, engine, segment, master, workers);
      if (p.repairer != null) {
        p.repairer.start();
      }
      LOG.info("Runic Quanta started on node {} ({}): {}", ignite.name(), nodeId,
          segment == null ? "no segment" : "segment " + segment.name() + " of " + seg + " bytes");
      return p;
    } catch (RuntimeException e) {
      closeQuietly(master);
      closeQuietly(segment);
      closeQuietly(engine);
      if (workers != null) {
        workers.shutdownNow();
      }
      closeQuietly(alloc);
      throw e;
    }
  }

  static String segmentName(String nodeId) {
    return "rq-" + nodeId;
  }

  /** Stops the plugin: unmount (when no live shards), close segment, engine, client, allocator. */
  void stop() {
    if (stopped || store == null) {
      return;
    }
    stopped = true;
    if (repairer != null) {
      repairer.close();
    }
    store.close();
    if (segment != null) {
      try {
        master.unmountSegment(segment.name());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
          LOG.info("segment {} stays mounted: it holds live shards ({}); readers treat it as lost"
              + " once this node has left", segment.name(), e.getStatus().getDescription());
        } else {
          LOG.warn("could not unmount segment {}: {}", segment.name(), e.getStatus());
        }
      } catch (RuntimeException e) {
        LOG.warn("could not unmount segment {}", segment.name(), e);
      }
    }
    workers.shutdownNow();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeQuietly(segment);
    closeQuietly(engine);
    closeQuietly(master);
    if (allocator.getAllocatedMemory() != 0) {
      LOG.warn("Runic Quanta allocator of node {} still holds {} bytes at stop:\n{}", ignite.name(),
          allocator.getAllocatedMemory(), allocator.toVerboseString());
    }
    closeQuietly(allocator);
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("closing {} failed", c, e);
    }
  }

  /** @return the user API of this node */
  public RqStore store() {
    return store;
  }

  /** @return the node's transfer engine */
  public TransferEngine engine() {
    return engine;
  }

  /** @return the node's configuration (defaults when it set none) */
  public RqPluginConfiguration config() {
    return cfg;
  }

  /** @return the node's storage segment, or null on client nodes and nodes without one */
  public Segment segment() {
    return segment;
  }

  /** @return the node's master client */
  public MasterClient master() {
    return master;
  }

  /** @return the allocator paying for the segment and for stash/reveal work on this node */
  public BufferAllocator allocator() {
    return allocator;
  }

  /** @return the node */
  public Ignite ignite() {
    return ignite;
  }

  /** @return the node's repairer (self-healing), or null on client nodes */
  Repairer repairer() {
    return repairer;
  }

  ExecutorService workers() {
    return workers;
  }
}
