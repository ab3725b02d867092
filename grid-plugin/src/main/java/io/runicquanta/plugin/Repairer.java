package io.runicquanta.plugin;

import io.runicquanta.master.MasterAddress;
import io.runicquanta.master.MasterCaches;
import io.runicquanta.master.proto.ListDegradedRequest;
import io.runicquanta.master.proto.ListDegradedResponse;
import io.runicquanta.master.proto.ListSegmentsRequest;
import io.runicquanta.master.proto.ListSegmentsResponse;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ignite.Ignite;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Self-healing: finds objects with shards on lost nodes and writes new repair symbols for them,
 * so their loss tolerance m is back.
 *
 * <h2>Where it runs</h2>
 *
 * Every server node's plugin starts a repairer thread, but only the one on the node that hosts the
 * master (the node named in the master's published address) works; the others idle. One node at a
 * time runs the master (MasterIgniteService), so this makes the repairer one too, without a service deployment of
 * its own: it moves with the master when that node leaves, its master calls stay on the node, and
 * the master already knows (from discovery) which segments are lost. A master hosted on a node
 * without the plugin (a dedicated master process) gets no repairer; run the plugin there too.
 *
 * <h2>A pass</h2>
 *
 * Right after a topology change (polled every 100 ms: the topology version) and otherwise every
 * {@link RqPluginConfiguration#repairIntervalMillis()}: ListSegments for the lost segments,
 * ListDegraded for the objects (parts and manifests) with shards on them or with shards a reader
 * reported corrupt (a reader that finds a shard failing its header or CRC32C check on a live node
 * calls ReportCorrupt, and the master marks the shard in the layout), and for each, {@link
 * GridStore#repairObject}: read K (+ margin) valid symbols from live shards, recover the source
 * block, RepairStart (regions on live nodes with fresh ESIs), encode and write the new symbols,
 * RepairEnd (an atomic swap in the master). An object that fails is logged and tried again next
 * pass. Bytes written are paced by a {@link TokenBucket} of {@link
 * RqPluginConfiguration#repairBytesPerSecond()}; off-heap work memory comes from the node's
 * allocator (GridStore's work allocator) and is freed after each object.
 */
final class Repairer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Repairer.class);
  private static final int BATCH = 1000;

  private final Ignite ignite;
  private final GridStore store;
  private final long intervalMillis;
  private final TokenBucket bucket;
  private final String localNodeId;
  private final Thread thread;
  private volatile boolean stopped;
  /** Test hook: while set, no pass starts. */
  volatile boolean paused;

  // statistics, for tests and diagnostics
  final AtomicLong objectsRepaired = new AtomicLong();
  final AtomicLong shardsWritten = new AtomicLong();
  final AtomicLong bytesWritten = new AtomicLong();
  final AtomicLong failures = new AtomicLong();
  final AtomicLong passes = new AtomicLong();
  volatile long firstWriteNanos;
  volatile long lastWriteNanos;

  Repairer(Ignite ignite, GridStore store, RqPluginConfiguration cfg) {
    this.ignite = ignite;
    this.store = store;
    this.intervalMillis = cfg.repairIntervalMillis();
    this.bucket = new TokenBucket(cfg.repairBytesPerSecond());
    this.localNodeId = ignite.cluster().localNode().id().toString();
    this.thread = new Thread(this::run, "rq-repairer-" + ignite.name());
    thread.setDaemon(true);
  }

  void start() {
    if (intervalMillis > 0) {
      thread.start();
    }
  }

  /** @return true if the master runs on this node */
  boolean hostsMaster() {
    try {
      MasterAddress a = MasterCaches.address(ignite).get(MasterCaches.ADDRESS_KEY);
      return a != null && localNodeId.equals(a.nodeId());
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void run() {
    long topVer = -1;
    long next = 0;
    while (!stopped) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      }
      long v;
      try {
        v = ignite.cluster().topologyVersion();
      } catch (RuntimeException e) {
        continue;
      }
      long now = System.currentTimeMillis();
      if (v == topVer && now < next) {
        continue;
      }
      topVer = v;
      next = now + intervalMillis;
      if (paused) {
        topVer = -1; // run as soon as resumed
        continue;
      }
      if (!hostsMaster()) {
        continue;
      }
      try {
        // a pass repairs at most BATCH objects; go on at once while more are degraded
        while (!stopped && pass()) {
          // next batch
        }
      } catch (RuntimeException e) {
        if (!stopped) {
          LOG.warn("repair pass failed; retrying in {} ms: {}", intervalMillis, e.toString());
        }
      }
    }
  }

  /**
   * One pass over the degraded objects.
   *
   * @return true if the master listed more degraded objects than this pass took and at least one
   *     was repaired
   */
  boolean pass() {
    passes.incrementAndGet();
    ListSegmentsResponse segs =
        store.call("repair: list segments", s -> s.listSegments(ListSegmentsRequest.getDefaultInstance()));
    Set<String> lost = new HashSet<>();
    for (ListSegmentsResponse.Item it : segs.getSegmentsList()) {
      if (it.getLost()) {
        lost.add(it.getSegment().getName());
      }
    }
    // objects with shards marked corrupt (ReportCorrupt) are listed even when no node is lost
    ListDegradedResponse d = store.call("repair: list degraded", s -> s.listDegraded(
        ListDegradedRequest.newBuilder().setLimit(BATCH).build()));
    if (d.getItemsCount() == 0) {
      return false;
    }
    LOG.info("repair pass: {} degraded objects{}, lost segments {} (and shards reported corrupt)", d.getItemsCount(),
        d.getTruncated() ? " (more follow)" : "", lost);
    int done = 0;
    for (ListDegradedResponse.Item it : d.getItemsList()) {
      if (stopped) {
        return false;
      }
      try {
        GridStore.RepairOutcome o = store.repairObject(it.getKey(), lost, bucket);
        if (o != null) {
          objectsRepaired.incrementAndGet();
          shardsWritten.addAndGet(o.newShards());
          bytesWritten.addAndGet(o.bytesWritten());
          done++;
        }
      } catch (RqException e) {
        if (e.code() == RqException.Code.NOT_FOUND) {
          LOG.info("'{}' was removed while being repaired; nothing to do", it.getKey());
          continue;
        }
        failures.incrementAndGet();
        LOG.warn("repair of '{}' failed; retrying next pass: {}", it.getKey(), e.getMessage());
      } catch (RuntimeException e) {
        failures.incrementAndGet();
        LOG.warn("repair of '{}' failed; retrying next pass: {}", it.getKey(), e.getMessage());
      }
    }
    return d.getTruncated() && done > 0;
  }

  /** Notes a write for the statistics (called by the bucket). */
  private void wrote() {
    long now = System.nanoTime();
    if (firstWriteNanos == 0) {
      firstWriteNanos = now;
    }
    lastWriteNanos = now;
  }

  /** @return the bucket pacing this repairer's writes */
  TokenBucket bucket() {
    return bucket;
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Paces bytes to a rate: a bucket of at most rate / 10 bytes (100 ms worth) refilled at the rate;
   * taking more than it holds waits until the debt is paid, so over any span the bytes taken are
   * at most rate x span + rate / 10.
   */
  final class TokenBucket {
    private final long rate;
    private final double burst;
    private double tokens;
    private long last = System.nanoTime();

    TokenBucket(long bytesPerSecond) {
      this.rate = bytesPerSecond;
      this.burst = bytesPerSecond / 10.0;
      this.tokens = burst;
    }

    /** Takes {@code bytes}, waiting as long as the rate requires. */
    synchronized void acquire(long bytes) throws InterruptedException {
      long now = System.nanoTime();
      tokens = Math.min(burst, tokens + (now - last) * rate / 1e9);
      last = now;
      tokens -= bytes;
      if (tokens < 0) {
        long waitNanos = (long) (-tokens * 1e9 / rate);
        Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
      }
      wrote();
    }

    long rate() {
      return rate;
    }
  }
}
