package io.runicquanta.master;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import io.runicquanta.master.proto.BlockPlacement;
import io.runicquanta.master.proto.BufHandle;
import io.runicquanta.master.proto.ReplicaInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.cache.Cache;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.cache.query.QueryCursor;
import org.apache.ignite.cache.query.ScanQuery;
import org.apache.ignite.transactions.Transaction;
import org.apache.ignite.transactions.TransactionConcurrency;
import org.apache.ignite.transactions.TransactionIsolation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's logic: segments, coded placement, object lifecycle and leases. Thread safe.
 *
 * <h2>Where the time went, and the design that follows</h2>
 *
 * Measured (JFR on the master's JVM, three server JVMs on a 2-core machine): the master's JVM is
 * nearly idle; a call's time is waiting for Ignite round trips, each a wake-up of a thread in
 * another process. The first design made every call its own Ignite operation: PutStart a
 * transactional {@code putIfAbsent} (an implicit pessimistic transaction: lock, read, commit), PutEnd
 * a transactional entry processor (lock, read, commit), GetReplicaList a cache get (a remote hop for
 * two keys in three). PutStart cost about 3x a bare transactional put, and concurrent calls queued
 * on per-key locks and on each other's commits, which made the tail.
 *
 * <p>So the master, which runs on one node at a time (MasterIgniteService) and is the only writer
 * of its caches, now keeps the authoritative state in memory and uses the caches only to make it
 * durable:
 *
 * <ul>
 *   <li><b>Decisions in memory.</b> Objects (their {@link ObjectRecord}s), segments with their
 *       {@link SpaceAllocator}s, open puts, read leases and pending frees live in this object;
 *       every call checks and changes them under one lock ({@code lock}) in microseconds. Of many
 *       racing PutStarts on a key, the first to take the lock wins; the others see the key.
 *   <li><b>Group commit.</b> Each change is also recorded in the open {@link Batch} (per cache:
 *       the key's new value, or its removal; a later change of a key replaces an earlier one). A
 *       committer thread takes the open batch, writes it in ONE optimistic Ignite transaction
 *       ({@code putAll}/{@code removeAll} on the objects, reclaim and segments caches, FULL_SYNC
 *       with backups) and then completes the batch's future. While one batch commits the next
 *       fills, so N concurrent calls cost one commit, not N. Up to {@link
 *       MasterConfig#commitConcurrency()} batches commit at once (committer threads; default 2);
 *       a batch starts beside others only if none of them is a barrier (frees space, changes
 *       segments or pending frees) and it changes none of their keys, so whatever order they
 *       commit in, the caches never hold a state in which two objects share space. Batches are
 *       acknowledged strictly in order: a batch's future completes once it and every earlier
 *       batch have committed. (2026-12-01, with the master on its caches' primary, 16 client
 *       threads on a 2-core box: single-call pairs 11,725-14,094/s with one batch at a time,
 *       11,187-11,986 with two, 9,016-11,536 with four (57-64, 68-72 and 74-97 us of the master
 *       JVM's CPU per pair: fewer, larger transactions); batch calls of 32 keys 36,181-49,423,
 *       41,642-48,938 and 40,413-49,941 keys/s. Two is the default: close to one on single
 *       calls, some overlap of commits for batch calls and slow commits. Before, off the
 *       primary, a commit was a remote round trip and four at once hid it.)
 *   <li><b>Nothing acknowledged before it is durable.</b> A call that changed state is answered
 *       when its batch has committed. A call whose answer depends on a change not yet durable
 *       (GetReplicaList of an object whose PutEnd is committing, an ALREADY_EXISTS caused by a
 *       PutStart still committing) waits for that change's batch ({@code dirty} maps each key to
 *       the batch of its last change). So whatever a client was told survives a failover: a new
 *       master rebuilds the same state from the caches.
 *   <li><b>Failure.</b> A batch that cannot commit (after retries) poisons this core: its calls
 *       and every later one fail UNAVAILABLE, and {@link MasterIgniteService} starts a fresh core
 *       that rebuilds from the caches. In-memory changes after the last durable batch are thereby
 *       dropped, and none of them was acknowledged. Space released in memory may be taken again by
 *       a later call before the release is durable: that call commits in the same or a later
 *       batch, so it is never acknowledged without the release.
 *   <li><b>Reads from memory.</b> GetReplicaList and the regex calls read this object; they write
 *       nothing. A read lease is kept in memory only; a new master makes up for the leases it
 *       does not know by treating every object as leased until one read lease after it started
 *       ({@code leaseFloor}), which is conservative: space is freed later, never earlier. The
 *       lease is taken under the same lock under which Remove decides whether to defer the free,
 *       so a reader that saw an object always holds a lease that Remove sees. A pending free
 *       read back from the caches also waits for the deadline of every repair its object still
 *       had open (the layout in the stored record carries them; a repairer that reported back
 *       after the Remove clears its deadline there), since a repairer may still write.
 *       (2026-12-01) The placement handed to readers is built once per record and cached on it
 *       (a record is immutable and every change replaces it, so the cache is never stale); before,
 *       each read parsed the stored layout and rebuilt the message, 10 % of the master's CPU
 *       samples in a 16-thread GetReplicaList loop. The read lease is extended in place.
 * </ul>
 *
 * No entry processors, no pessimistic locks and no reads from the caches on the hot path. The cost
 * is memory: every object's record is held here as well as in the caches (the master rebuilt its
 * free lists from all of them at start anyway).
 *
 * <h2>The tail (second pass)</h2>
 *
 * The 1-thread pair rate of the benchmark was 8x below what the calls' medians add up to. What was
 * found (measured under a load average of 15 to 30, so by distributions and JFR, not by rates):
 * no lost wake-up or timer in the group commit (a new batch wakes a committer at once; JFR shows
 * the committer waiting only in Ignite's commit), and no heavy tail either: in the 1-thread cell,
 * mean is 1.2 to 1.7x p50, but the calls are slower as a whole: in every run, PutStart's and
 * PutEnd's p50 inside the pair loop (PutStart then PutEnd of the same key, back to back) was 4 to 6x
 * the p50 of the same calls in loops of PutStarts only or PutEnds only at the end of the run (5.1
 * against 0.83 ms at the quietest). Warm-up (the benchmark now warms every path up first) did not
 * close that gap. Open lead, not confirmed on the loaded machine: a transaction writing a key right
 * after the previous transaction on that key committed waits in Ignite. Two costs on the critical
 * path were removed:
 *
 * <ul>
 *   <li><b>Futile wake-ups.</b> A new batch woke all four committers ({@code notifyAll}); three
 *       found nothing to start and slept again, and every commit woke them once more: six context
 *       switches per call on a 2-core machine. Now one committer is woken per new batch, and after
 *       a commit one more only if the open batch may start beside the others (all of them on
 *       close). One is enough: whether the open batch may start does not depend on which committer
 *       looks, and the committer finishing a blocking batch checks again itself.
 *   <li><b>Reaper scan.</b> The reaper (every 200 ms by default) dropped ended read leases by
 *       scanning every lease held, under the lock: with a 10 s read lease and thousands of reads a
 *       second, 10^5 entries, a stall of every call several times a second (a p99 cost of
 *       GetReplicaList). Lease ends now also go to a priority queue, and the reaper pops only the
 *       ended ones. (2026-12-01) Only a key's first lease is queued; an extension moves the map's
 *       value and the reaper re-queues the key when its old entry ends, so a read of a leased key
 *       no longer costs a queue insertion.
 * </ul>
 *
 * <h2>Leases</h2>
 *
 * PutStart gives a put lease ({@link MasterConfig#putLeaseMillis()}); the deadline is stored in the
 * record and indexed in memory; the reaper revokes a put still open after it and frees its space.
 * GetReplicaList gives a read lease ({@link MasterConfig#readLeaseMillis()}); Remove of a leased
 * object records its space as a pending free (reclaim cache) in the batch that removes the object,
 * and the reaper frees it when the lease ends.
 */
final class MasterCore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MasterCore.class);
  static final int MAX_SEGMENT_NAME = 256;
  static final int MAX_PATTERN_CHARS = 4096;
  static final int MAX_LOSS_TOLERANCE = 254;
  /** Attempts to commit one batch before the core gives up and restarts. */
  static final int COMMIT_ATTEMPTS = 4;
  /** Timeout of one batch transaction, ms. */
  static final long TX_TIMEOUT_MS = 15_000;

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final Ignite ignite;
  private final MasterConfig cfg;
  private final LongSupplier clock;
  private final IgniteCache<String, SegmentRecord> segments;
  private final IgniteCache<String, ObjectRecord> objects;
  private final IgniteCache<String, ReclaimRecord> reclaim;
  private final String epoch = UUID.randomUUID().toString();
  /**
   * Batches committing at once, at most ({@link MasterConfig#commitConcurrency()}). A batch starts
   * while others commit only if neither it nor any of them frees space or changes segments or
   * pending frees (a "barrier" batch) and its keys are not theirs; batches are acknowledged
   * strictly in order.
   */
  private final int maxInflight;
  private long reclaimSeq;

  /** Guards all state below except where noted. */
  private final Object lock = new Object();
  private final Map<String, Placement.SegState> segs = new LinkedHashMap<>();
  /** Changed under the lock; also scanned without it (regex calls), hence concurrent. */
  private final ConcurrentHashMap<String, ObjectRecord> objs = new ConcurrentHashMap<>();
  private final HashMap<String, Long> pendingPuts = new HashMap<>();
  /**
   * Read lease end per key, in a mutable cell so that a read of a leased key (the common case)
   * costs one map lookup and no allocation (a boxed value put back on every read cost a second
   * lookup and a {@code Long} per call).
   */
  private final HashMap<String, LeaseCell> readLeases = new HashMap<>();
  /**
   * Every value ever written to {@code readLeases} with its key, earliest end first, so the reaper
   * forgets ended leases in time proportional to their number, not to all leases held (a scan of
   * every lease under the lock stalled every call for milliseconds when many objects were read).
   */
  private final PriorityQueue<LeaseEnd> leaseEnds =
      new PriorityQueue<>(java.util.Comparator.comparingLong(LeaseEnd::until));
  private final HashMap<String, PendingFree> pendingFrees = new HashMap<>();
  /** Object key to the batch of its last change, while that batch is not yet durable. */
  private final HashMap<String, Long> dirty = new HashMap<>();
  private Batch open = new Batch(1);
  private final TreeMap<Long, Batch> inflight = new TreeMap<>();
  private long committed;
  private MasterException failure;
  private boolean closing;

  private final CompletableFuture<Throwable> failed = new CompletableFuture<>();
  // commit statistics, guarded by this object's monitor (stats())
  private long statBatches;
  private long statChanges;
  private long statCommitNanos;
  private long statMaxCommitNanos;
  private long statSince = System.nanoTime();
  private final java.util.concurrent.atomic.AtomicLong totalBatches = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong totalChanges = new java.util.concurrent.atomic.AtomicLong();
  // test hooks: hold the committer, or make the next commits fail
  private boolean held;
  private int faultsLeft;
  private RuntimeException fault;
  private final long leaseFloor;
  private final List<Thread> committers = new ArrayList<>();
  private final ScheduledExecutorService reaper;

  private record PendingFree(long until, ReclaimRecord record) {}

  private record LeaseEnd(long until, String key) {}

  /** A read lease's end, ms since the epoch; guarded by {@code lock}. */
  private static final class LeaseCell {
    long until;

    LeaseCell(long until) {
      this.until = until;
    }
  }

  /** Changes of many calls, written in one transaction. Filled under the lock. */
  static final class Batch {
    final long seq;
    final TreeMap<String, ObjectRecord> objPut = new TreeMap<>();
    final TreeSet<String> objDel = new TreeSet<>();
    final TreeMap<String, ReclaimRecord> reclaimPut = new TreeMap<>();
    final TreeSet<String> reclaimDel = new TreeSet<>();
    final TreeMap<String, SegmentRecord> segPut = new TreeMap<>();
    final TreeSet<String> segDel = new TreeSet<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();
    /** Frees space or changes segments or pending frees: no other batch commits beside it. */
    boolean barrier;
    /** Its transaction committed (it is acknowledged once every earlier batch has too). */
    boolean written;

    Batch(long seq) {
      this.seq = seq;
    }

    boolean isEmpty() {
      return objPut.isEmpty() && objDel.isEmpty() && reclaimPut.isEmpty() && reclaimDel.isEmpty()
          && segPut.isEmpty() && segDel.isEmpty();
    }

    int size() {
      return objPut.size() + objDel.size() + reclaimPut.size() + reclaimDel.size() + segPut.size()
          + segDel.size();
    }
  }

  /**
   * Opens the caches (creating them if needed), rebuilds the state from them and starts the
   * committer and reaper threads.
   *
   * @param ignite a started server node
   * @param cfg settings
   * @param clock wall clock, ms since the epoch
   */
  MasterCore(Ignite ignite, MasterConfig cfg, LongSupplier clock) {
    this.ignite = ignite;
    this.cfg = cfg;
    this.clock = clock;
    this.segments = MasterCaches.segments(ignite, cfg.cacheBackups());
    this.objects = MasterCaches.objects(ignite, cfg.cacheBackups());
    this.reclaim = MasterCaches.reclaim(ignite, cfg.cacheBackups());
    long now = clock.getAsLong();
    this.leaseFloor = now + cfg.readLeaseMillis();
    rebuild();
    this.maxInflight = cfg.commitConcurrency();
    for (int i = 0; i < maxInflight; i++) {
      Thread t = new Thread(this::commitLoop, "rq-master-committer-" + i);
      t.setDaemon(true);
      committers.add(t);
      t.start();
    }
    this.reaper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "rq-master-reaper");
              t.setDaemon(true);
              return t;
            });
    reaper.scheduleWithFixedDelay(
        this::reapQuietly, cfg.reaperIntervalMillis(), cfg.reaperIntervalMillis(), TimeUnit.MILLISECONDS);
  }

  private void rebuild() {
    int frees = 0;
    synchronized (lock) {
      for (Cache.Entry<String, SegmentRecord> e : segments.query(new ScanQuery<String, SegmentRecord>())) {
        segs.put(e.getKey(), new Placement.SegState(e.getValue(), cfg.allocAlignment()));
      }
      try (QueryCursor<Cache.Entry<String, ObjectRecord>> c = objects.query(new ScanQuery<>())) {
        for (Cache.Entry<String, ObjectRecord> e : c) {
          reserveAll(e.getKey(), e.getValue().layout());
          indexRepairs(e.getKey(), e.getValue().layout());
          objs.put(e.getKey(), e.getValue());
          if (e.getValue().status() != ObjectRecord.COMPLETE) {
            pendingPuts.put(e.getKey(), e.getValue().putDeadlineMillis());
          }
        }
      }
      try (QueryCursor<Cache.Entry<String, ReclaimRecord>> c = reclaim.query(new ScanQuery<>())) {
        for (Cache.Entry<String, ReclaimRecord> e : c) {
          reserveAll(e.getValue().key(), e.getValue().layout());
          pendingFrees.put(e.getKey(), new PendingFree(rebuiltFreeUntil(e.getValue()), e.getValue()));
          frees++;
        }
      }
    }
    LOG.info(
        "master state rebuilt: {} segments, {} objects, {} pending frees, {} open puts",
        segs.size(), objs.size(), frees, pendingPuts.size());
  }

  /**
   * When a pending free read back from the caches may be released: after every reader lease the
   * old master may have granted ({@code leaseFloor}) and after the deadline of every repair the
   * removed object still had open, because its repairer may still write into the repair's regions
   * (a repair that reported back after the Remove has its deadline cleared in the stored record,
   * see {@link #endRemovedRepair}).
   */
  private long rebuiltFreeUntil(ReclaimRecord r) {
    long until = leaseFloor;
    for (BlockPlacement b : parse(r.layout()).getBlocksList()) {
      if (!b.getRepairId().isEmpty()) {
        until = Math.max(until, b.getRepairDeadlineUnixMs());
      }
    }
    return until;
  }

  private void reserveAll(String key, byte[] layout) {
    for (ShardLayout s : shards(layout)) {
      Placement.SegState st = segs.get(s.segment());
      if (st == null) {
        LOG.warn("object '{}' has a shard on segment '{}', which is not mounted", key, s.segment());
        continue;
      }
      st.alloc.reserve(s.offset(), s.length());
    }
  }

  // ---------------------------------------------------------------- group commit

  /** @return a future done when batch {@code seq} (and so every earlier one) is durable */
  private CompletableFuture<Void> durable(long seq) {
    // caller holds the lock
    if (seq <= committed) {
      return DONE;
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    Batch b = inflight.get(seq);
    return b != null ? b.done : open.done;
  }

  /** @return the batch of the key's last change not yet durable, or 0 */
  private long dep(String key) {
    Long s = dirty.get(key);
    return s == null ? 0 : s;
  }

  /** @return the newest batch holding a change */
  private long latest() {
    if (!open.isEmpty()) {
      return open.seq;
    }
    return inflight.isEmpty() ? committed : inflight.lastKey();
  }

  /** Called with the lock held: refuses calls once a batch failed or the core is closing. */
  private void alive() {
    if (failure != null) {
      throw failure;
    }
    if (closing) {
      throw MasterException.unavailable("the master is stopping; retry to reach its successor");
    }
  }

  private <T> CompletableFuture<T> failAfter(long seq, MasterException e) {
    CompletableFuture<Void> d = durable(seq);
    if (d == DONE) {
      return CompletableFuture.failedFuture(e);
    }
    return d.thenCompose(v -> CompletableFuture.failedFuture(e));
  }

  private <T> CompletableFuture<T> valueAfter(long seq, T value) {
    CompletableFuture<Void> d = durable(seq);
    return d == DONE ? CompletableFuture.completedFuture(value) : d.thenApply(v -> value);
  }

  /** Wakes ONE idle committer when the open batch gets its first change (see the class comment). */
  private void wakeCommitter(boolean wasEmpty) {
    if (wasEmpty) {
      lock.notify();
    }
  }

  private void putObj(String key, ObjectRecord rec) {
    boolean was = open.isEmpty();
    open.objDel.remove(key);
    open.objPut.put(key, rec);
    dirty.put(key, open.seq);
    wakeCommitter(was);
  }

  private void delObj(String key) {
    boolean was = open.isEmpty();
    open.objPut.remove(key);
    open.objDel.add(key);
    open.barrier = true;
    dirty.put(key, open.seq);
    wakeCommitter(was);
  }

  private void putReclaim(String id, ReclaimRecord r) {
    boolean was = open.isEmpty();
    open.reclaimDel.remove(id);
    open.reclaimPut.put(id, r);
    open.barrier = true;
    wakeCommitter(was);
  }

  private void delReclaim(String id) {
    boolean was = open.isEmpty();
    if (open.reclaimPut.remove(id) == null) {
      open.reclaimDel.add(id);
    }
    open.barrier = true;
    wakeCommitter(was);
  }

  private void putSeg(String name, SegmentRecord r) {
    boolean was = open.isEmpty();
    open.segDel.remove(name);
    open.segPut.put(name, r);
    open.barrier = true;
    wakeCommitter(was);
  }

  private void delSeg(String name) {
    boolean was = open.isEmpty();
    open.segPut.remove(name);
    open.segDel.add(name);
    open.barrier = true;
    wakeCommitter(was);
  }

  /** @return whether the open batch may start committing now; lock held */
  private boolean canStart() {
    if (open.isEmpty() || (held && !closing)) {
      return false;
    }
    if (inflight.isEmpty()) {
      return true;
    }
    if (inflight.size() >= maxInflight || open.barrier) {
      return false;
    }
    for (Batch b : inflight.values()) {
      if (b.barrier) {
        return false;
      }
      for (String k : open.objPut.keySet()) {
        if (b.objPut.containsKey(k)) {
          return false;
        }
      }
    }
    return true;
  }

  private void commitLoop() {
    while (true) {
      Batch b;
      synchronized (lock) {
        while (failure == null && !canStart()) {
          if (closing && open.isEmpty()) {
            return;
          }
          try {
            lock.wait();
          } catch (InterruptedException e) {
            closing = true;
          }
        }
        if (failure != null) {
          return;
        }
        b = open;
        inflight.put(b.seq, b);
        open = new Batch(b.seq + 1);
      }
      long t0 = System.nanoTime();
      RuntimeException err = persist(b);
      if (err != null) {
        poison(err);
        return;
      }
      stats(b.size(), System.nanoTime() - t0);
      List<Batch> durableNow = new ArrayList<>();
      synchronized (lock) {
        b.written = true;
        while (!inflight.isEmpty() && inflight.firstEntry().getValue().written) {
          Batch f = inflight.pollFirstEntry().getValue();
          committed = f.seq;
          durableNow.add(f);
        }
        if (!durableNow.isEmpty()) {
          long c = committed;
          dirty.values().removeIf(x -> x <= c);
        }
        if (closing) {
          lock.notifyAll(); // every committer must see it and stop
        } else if (canStart()) {
          lock.notify(); // let an idle committer start it while this one sends the replies
        }
      }
      for (Batch f : durableNow) {
        f.done.complete(null);
      }
    }
  }

  /** Counts a commit; logs a summary every 10 s while batches commit. */
  private synchronized void stats(int changes, long nanos) {
    totalBatches.incrementAndGet();
    totalChanges.addAndGet(changes);
    statBatches++;
    statChanges += changes;
    statCommitNanos += nanos;
    statMaxCommitNanos = Math.max(statMaxCommitNanos, nanos);
    long now = System.nanoTime();
    if (now - statSince >= 10_000_000_000L) {
      LOG.info(
          "master group commit: {} batches of {} changes on average in the last {} s; commit"
              + " {} ms on average, {} ms at most",
          statBatches, String.format(java.util.Locale.ROOT, "%.1f", (double) statChanges / statBatches),
          (now - statSince) / 1_000_000_000L,
          String.format(java.util.Locale.ROOT, "%.2f", statCommitNanos / 1e6 / statBatches),
          String.format(java.util.Locale.ROOT, "%.2f", statMaxCommitNanos / 1e6));
      statBatches = 0;
      statChanges = 0;
      statCommitNanos = 0;
      statMaxCommitNanos = 0;
      statSince = now;
    }
  }

  /** Writes one batch in one transaction, retrying a few times. @return null, or the last error */
  private RuntimeException persist(Batch b) {
    RuntimeException last = null;
    for (int attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      try (Transaction tx =
          ignite.transactions().txStart(
              TransactionConcurrency.OPTIMISTIC, TransactionIsolation.READ_COMMITTED, TX_TIMEOUT_MS,
              b.size())) {
        RuntimeException injected = injectedFault();
        if (injected != null) {
          throw injected;
        }
        if (!b.segPut.isEmpty()) {
          segments.putAll(b.segPut);
        }
        if (!b.segDel.isEmpty()) {
          segments.removeAll(b.segDel);
        }
        if (!b.objPut.isEmpty()) {
          objects.putAll(b.objPut);
        }
        if (!b.objDel.isEmpty()) {
          objects.removeAll(b.objDel);
        }
        if (!b.reclaimPut.isEmpty()) {
          reclaim.putAll(b.reclaimPut);
        }
        if (!b.reclaimDel.isEmpty()) {
          reclaim.removeAll(b.reclaimDel);
        }
        tx.commit();
        return null;
      } catch (RuntimeException e) {
        last = e;
        boolean stop;
        synchronized (lock) {
          stop = closing;
        }
        LOG.warn("master batch {} ({} changes) failed to commit, attempt {} of {}",
            b.seq, b.size(), attempt + 1, COMMIT_ATTEMPTS, e);
        if (stop) {
          break;
        }
        try {
          Thread.sleep(100L << attempt);
        } catch (InterruptedException ie) {
          break;
        }
      }
    }
    return last;
  }

  private void poison(RuntimeException cause) {
    List<Batch> lost = new ArrayList<>();
    synchronized (lock) {
      failure = MasterException.unavailable(
          "the master could not store its state in the grid (" + cause
              + "); it restarts from the caches; retry");
      lost.addAll(inflight.values());
      lost.add(open);
      lock.notifyAll();
    }
    LOG.error("master batch commit failed for good; this master stops and restarts from the caches", cause);
    for (Batch b : lost) {
      b.done.completeExceptionally(failure);
    }
    failed.complete(cause);
  }

  /** @return {batches, changes} committed since this core started; for tests and diagnostics */
  long[] commitCounts() {
    return new long[] {totalBatches.get(), totalChanges.get()};
  }

  /**
   * Test hook: while held, the committer commits nothing, so calls pile up in the open batch (and
   * none is answered).
   */
  void holdCommits(boolean hold) {
    synchronized (lock) {
      held = hold;
      lock.notifyAll();
    }
  }

  /** @return read leases held in memory (ended ones not yet forgotten included); for tests */
  int readLeaseCount() {
    synchronized (lock) {
      return readLeases.size();
    }
  }

  /** @return changes waiting in the open batch; for tests */
  int openChanges() {
    synchronized (lock) {
      return open.size();
    }
  }

  /** Test hook: the next {@code n} commit attempts fail with {@code e} before writing. */
  void failCommits(int n, RuntimeException e) {
    synchronized (lock) {
      faultsLeft = n;
      fault = e;
    }
  }

  private RuntimeException injectedFault() {
    synchronized (lock) {
      if (faultsLeft > 0) {
        faultsLeft--;
        return fault;
      }
      return null;
    }
  }

  /** @return completes with the cause when this core can no longer serve (a batch failed) */
  CompletableFuture<Throwable> failed() {
    return failed;
  }

  /**
   * Waits until every change made so far is durable. Not for the committer thread.
   *
   * @throws MasterException UNAVAILABLE if a batch failed
   */
  void flush() {
    CompletableFuture<Void> f;
    synchronized (lock) {
      f = durable(latest());
    }
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw MasterException.unavailable("interrupted waiting for the master's batch");
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw MasterException.unavailable("the master's batch did not commit: " + e);
    }
  }

  // ---------------------------------------------------------------- validation

  static void checkKey(String key) {
    if (key == null || key.isEmpty()) {
      throw MasterException.invalid("key is empty; expected 1 to 1024 bytes of UTF-8");
    }
    if (key.length() > ObjectLayout.MAX_KEY_BYTES
        || key.getBytes(StandardCharsets.UTF_8).length > ObjectLayout.MAX_KEY_BYTES) {
      throw MasterException.invalid(
          "key is " + key.getBytes(StandardCharsets.UTF_8).length + " bytes of UTF-8 (starts '"
              + key.substring(0, Math.min(32, key.length())) + "...'); expected at most " + ObjectLayout.MAX_KEY_BYTES);
    }
  }

  void checkBatchSize(int n) {
    checkBatch(n);
  }

  private void checkBatch(int n) {
    if (n > cfg.maxBatchItems()) {
      throw MasterException.invalid(
          "batch of " + n + " items; expected at most " + cfg.maxBatchItems() + "; split it");
    }
  }

  static Pattern compile(String regex) {
    if (regex == null || regex.isEmpty()) {
      throw MasterException.invalid("key regex is empty; expected an RE2 pattern such as 'logs/.*'");
    }
    if (regex.length() > MAX_PATTERN_CHARS) {
      throw MasterException.invalid(
          "key regex is " + regex.length() + " characters; expected at most " + MAX_PATTERN_CHARS);
    }
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw MasterException.invalid("key regex '" + regex + "' is invalid: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- segments

  /**
   * Mounts a segment.
   *
   * @return done when the mount is durable; fails with INVALID_ARGUMENT for a bad field,
   *     ALREADY_EXISTS if mounted
   */
  CompletableFuture<Void> mountSegment(SegmentRecord rec) {
    if (rec.name().isEmpty() || rec.name().length() > MAX_SEGMENT_NAME) {
      throw MasterException.invalid(
          "segment name is " + rec.name().length() + " characters; expected 1.." + MAX_SEGMENT_NAME);
    }
    if (rec.nodeId().isEmpty()) {
      throw MasterException.invalid(
          "segment '" + rec.name() + "' has no node id; expected the id of the node offering it");
    }
    if (rec.sizeBytes() < cfg.allocAlignment() + ShardLayout.HEADER_BYTES) {
      throw MasterException.invalid(
          "segment '" + rec.name() + "' size = " + rec.sizeBytes() + " bytes; expected at least "
              + (cfg.allocAlignment() + ShardLayout.HEADER_BYTES));
    }
    if (rec.transport().isEmpty()) {
      throw MasterException.invalid(
          "segment '" + rec.name() + "' has no transport; expected 'local', 'tcp' or 'fabric'");
    }
    synchronized (lock) {
      alive();
      for (Placement.SegState s : segs.values()) {
        if (s.record.nodeId().equals(rec.nodeId())
            && !s.record.failureDomain().equals(rec.failureDomain())) {
          return failAfter(latest(), MasterException.invalid(
              "segment '" + rec.name() + "' of node '" + rec.nodeId() + "' says failure domain '"
                  + rec.failureDomain() + "' but the node's segment '" + s.record.name()
                  + "' says '" + s.record.failureDomain() + "'; a node is in one domain"));
        }
      }
      Placement.SegState prev = segs.get(rec.name());
      if (prev != null) {
        return failAfter(latest(), MasterException.exists(
            "segment '" + rec.name() + "' is already mounted (node '" + prev.record.nodeId() + "', "
                + prev.record.sizeBytes() + " bytes); unmount it first or pick another name"));
      }
      segs.put(rec.name(), new Placement.SegState(rec, cfg.allocAlignment()));
      putSeg(rec.name(), rec);
      lostTopVer = -1; // judge the new segment's node at the next liveness check
      return durable(open.seq);
    }
  }

  /**
   * Unmounts a segment that holds no shards.
   *
   * @return done when durable; fails with NOT_FOUND if not mounted, FAILED_PRECONDITION if it holds
   *     shards
   */
  CompletableFuture<Void> unmountSegment(String name) {
    synchronized (lock) {
      alive();
      Placement.SegState st = segs.get(name);
      if (st == null) {
        return failAfter(latest(), MasterException.notFound("segment '" + name + "' is not mounted"));
      }
      int live = st.alloc.liveCount();
      if (live > 0) {
        return failAfter(latest(), MasterException.precondition(
            "segment '" + name + "' still holds " + live + " live shards ("
                + (st.alloc.capacity() - st.alloc.freeBytes()) + " bytes); remove their objects"
                + " (or wait for read leases to end) before unmounting"));
      }
      segs.remove(name);
      delSeg(name);
      return durable(open.seq);
    }
  }

  /** A snapshot row of {@link #listSegments()}. */
  record SegmentView(SegmentRecord record, long freeBytes, int liveShards) {}

  /** @return the mounted segments with their free space, in mount order */
  CompletableFuture<List<SegmentView>> listSegments() {
    synchronized (lock) {
      alive();
      List<SegmentView> out = new ArrayList<>(segs.size());
      for (Placement.SegState s : segs.values()) {
        out.add(new SegmentView(s.record, s.alloc.freeBytes(), s.alloc.liveCount()));
      }
      return valueAfter(latest(), out);
    }
  }

  // ---------------------------------------------------------------- puts

  /** Result of a PutStart: the placement (status INITIALIZED) and the put lease's end. */
  record PutStartResult(ReplicaInfo replica, long leaseExpiresMillis) {}

  /**
   * Places an object and records it as INITIALIZED (invisible to readers).
   *
   * @param decodeMargin h, or -1 for the default
   * @param putLeaseMillis put lease, or -1 for the default
   * @return the placement once durable; fails with INVALID_ARGUMENT, ALREADY_EXISTS,
   *     FAILED_PRECONDITION, RESOURCE_EXHAUSTED
   */
  CompletableFuture<PutStartResult> putStart(
      String key, long size, int lossTolerance, long blockSize, int symbolSize, long decodeMargin,
      long putLeaseMillis) {
    checkKey(key);
    if (putLeaseMillis == 0 || putLeaseMillis > 86_400_000L) {
      throw MasterException.invalid(
          "put lease = " + putLeaseMillis + " ms for key '" + key + "'; expected 1..86400000, or"
              + " unset for the default " + cfg.putLeaseMillis());
    }
    if (size <= 0) {
      throw MasterException.invalid(
          "size = " + size + " bytes for key '" + key + "'; expected a positive object size");
    }
    if (lossTolerance < 0 || lossTolerance > MAX_LOSS_TOLERANCE) {
      throw MasterException.invalid(
          "loss tolerance m = " + Integer.toUnsignedString(lossTolerance) + " for key '" + key
              + "'; expected 0.." + MAX_LOSS_TOLERANCE);
    }
    if (decodeMargin > 1024) {
      throw MasterException.invalid(
          "decode margin h = " + decodeMargin + " for key '" + key
              + "'; expected 0..1024 (3 gives decode failure odds of about 2e-10)");
    }
    int h = decodeMargin < 0 ? cfg.defaultDecodeMargin() : (int) decodeMargin;
    if (blockSize <= 0) {
      throw MasterException.invalid(
          "block size = " + blockSize + " bytes for key '" + key + "'; expected a positive size");
    }
    Placement.Geometry g = Placement.geometry(key, size, blockSize, symbolSize);
    long lease = putLeaseMillis < 0 ? cfg.putLeaseMillis() : putLeaseMillis;
    synchronized (lock) {
      alive();
      if (objs.containsKey(key)) {
        return failAfter(dep(key), MasterException.exists(
            "an object with key '" + key + "' already exists or is being written; Remove (or"
                + " PutRevoke) it first, or use another key"));
      }
      ObjectLayout layout;
      try {
        layout = Placement.place(key, g, lossTolerance, h, cfg.maxShardsPerBlock(), placeable());
      } catch (MasterException e) {
        return failAfter(latest(), e);
      }
      ReplicaInfo stored = LayoutProtos.toProto(layout, ReplicaInfo.ReplicaStatus.UNDEFINED);
      long deadline = clock.getAsLong() + lease;
      ObjectRecord rec =
          new ObjectRecord(
              ObjectRecord.INITIALIZED, size, deadline, layout.shardCount(), stored.toByteArray(), null);
      objs.put(key, rec);
      pendingPuts.put(key, deadline);
      putObj(key, rec);
      return durable(open.seq).thenApply(v -> new PutStartResult(
          LayoutProtos.withStatus(stored, ReplicaInfo.ReplicaStatus.INITIALIZED, null), deadline));
    }
  }

  /**
   * Completes a put: the object becomes visible, atomically, with its shards' checksums.
   *
   * @param crcs CRC32C per shard in layout order
   * @return done once durable; fails with NOT_FOUND, INVALID_ARGUMENT (wrong checksum count),
   *     FAILED_PRECONDITION (already complete, or the put lease ran out)
   */
  CompletableFuture<Void> putEnd(String key, int[] crcs) {
    checkKey(key);
    synchronized (lock) {
      alive();
      long now = clock.getAsLong();
      ObjectRecord r = objs.get(key);
      if (r == null) {
        return failAfter(dep(key), MasterException.notFound(
            "no put of key '" + key + "' is open (never started, revoked, or its lease ran out)"));
      }
      if (r.status() == ObjectRecord.COMPLETE) {
        return failAfter(dep(key), MasterException.precondition(
            "object '" + key + "' is already complete; PutEnd was called twice"));
      }
      if (r.putDeadlineMillis() < now) {
        return failAfter(dep(key), MasterException.precondition(
            "the put lease of '" + key + "' ran out " + (now - r.putDeadlineMillis()) + " ms ago;"
                + " the put is revoked and its space reclaimed; start the put again"));
      }
      if (crcs.length != r.shardCount()) {
        return failAfter(dep(key), MasterException.invalid(
            "PutEnd of '" + key + "' carries " + crcs.length + " shard checksums; the layout has "
                + r.shardCount() + " shards; send one CRC32C per shard in layout order"));
      }
      ObjectRecord done = r.complete(crcs.clone());
      objs.put(key, done);
      pendingPuts.remove(key);
      putObj(key, done);
      return durable(open.seq);
    }
  }

  /**
   * Undoes an unfinished put and frees its space.
   *
   * @return done once durable; fails with NOT_FOUND, FAILED_PRECONDITION (the object is complete)
   */
  CompletableFuture<Void> putRevoke(String key) {
    checkKey(key);
    synchronized (lock) {
      alive();
      ObjectRecord r = objs.get(key);
      if (r == null) {
        return failAfter(dep(key), MasterException.notFound("no put of key '" + key + "' is open"));
      }
      if (r.status() == ObjectRecord.COMPLETE) {
        return failAfter(dep(key), MasterException.precondition(
            "object '" + key + "' is complete; PutRevoke only undoes an unfinished put; use Remove"));
      }
      objs.remove(key);
      pendingPuts.remove(key);
      delObj(key);
      release(r.layout());
      return durable(open.seq);
    }
  }

  // ---------------------------------------------------------------- reads

  /** A placement handed to a reader and its read lease's end. */
  record ReadResult(ReplicaInfo replica, long leaseExpiresMillis) {}

  /**
   * @return the placement of a complete object, with a read lease; fails with NOT_FOUND
   */
  CompletableFuture<ReadResult> getReplicaList(String key) {
    checkKey(key);
    ObjectRecord rec;
    long until;
    CompletableFuture<Void> d;
    synchronized (lock) {
      alive();
      until = lease(key);
      rec = objs.get(key);
      d = durable(dep(key));
    }
    if (rec == null || rec.status() != ObjectRecord.COMPLETE) {
      MasterException e = MasterException.notFound(
          rec == null
              ? "no object with key '" + key + "'"
              : "object '" + key + "' is still being written (no PutEnd yet)");
      return d == DONE ? CompletableFuture.failedFuture(e) : d.thenCompose(v -> CompletableFuture.failedFuture(e));
    }
    ReadResult out = new ReadResult(toReplica(rec), until);
    return d == DONE ? CompletableFuture.completedFuture(out) : d.thenApply(v -> out);
  }

  /** Outcome of a batch or regex read: per key its placement or refusal, and the lease end. */
  record BatchRead(Map<String, Object> items, long leaseExpiresMillis) {}

  /** @return per key, its placement or the refusal; all under one read lease end */
  CompletableFuture<BatchRead> batchGet(List<String> keys) {
    checkBatch(keys.size());
    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, ObjectRecord> got = new HashMap<>();
    long until = 0;
    long seq = 0;
    CompletableFuture<Void> d;
    synchronized (lock) {
      alive();
      for (String k : keys) {
        try {
          checkKey(k);
        } catch (MasterException e) {
          out.put(k, e);
          continue;
        }
        until = Math.max(until, lease(k));
        ObjectRecord r = objs.get(k);
        if (r != null) {
          got.put(k, r);
        }
        seq = Math.max(seq, dep(k));
      }
      d = durable(seq);
    }
    for (String k : keys) {
      if (out.containsKey(k)) {
        continue;
      }
      ObjectRecord rec = got.get(k);
      out.put(
          k,
          rec == null || rec.status() != ObjectRecord.COMPLETE
              ? MasterException.notFound("no complete object with key '" + k + "'")
              : toReplica(rec));
    }
    BatchRead r = new BatchRead(out, until);
    return d == DONE ? CompletableFuture.completedFuture(r) : d.thenApply(v -> r);
  }

  /**
   * @return placements of all complete objects whose key matches (RE2 syntax, whole key), in key
   *     order; fails with INVALID_ARGUMENT for a bad pattern or too many matches
   */
  CompletableFuture<BatchRead> getByRegex(String regex) {
    List<String> keys = matching(regex);
    Map<String, Object> out = new LinkedHashMap<>();
    List<Map.Entry<String, ObjectRecord>> got = new ArrayList<>(keys.size());
    long until = clock.getAsLong() + cfg.readLeaseMillis();
    CompletableFuture<Void> d;
    synchronized (lock) {
      alive();
      long seq = 0;
      for (String k : keys) {
        until = Math.max(until, lease(k));
        ObjectRecord r = objs.get(k);
        if (r != null && r.status() == ObjectRecord.COMPLETE) {
          got.add(Map.entry(k, r));
        }
        seq = Math.max(seq, dep(k));
      }
      d = durable(seq);
    }
    for (Map.Entry<String, ObjectRecord> e : got) {
      out.put(e.getKey(), toReplica(e.getValue()));
    }
    BatchRead r = new BatchRead(out, until);
    return d == DONE ? CompletableFuture.completedFuture(r) : d.thenApply(v -> r);
  }

  /** Keys of complete objects matching, sorted; a weakly consistent scan of the memory state. */
  private List<String> matching(String regex) {
    Pattern p = compile(regex);
    List<String> keys = new ArrayList<>();
    for (Map.Entry<String, ObjectRecord> e : objs.entrySet()) {
      if (e.getValue().status() == ObjectRecord.COMPLETE && p.matches(e.getKey())) {
        keys.add(e.getKey());
        if (keys.size() > cfg.maxRegexMatches()) {
          throw MasterException.invalid(
              "key regex '" + regex + "' matches more than " + cfg.maxRegexMatches()
                  + " objects; narrow it");
        }
      }
    }
    keys.sort(null);
    return keys;
  }

  /** Called with the lock held. */
  private long lease(String key) {
    long until = clock.getAsLong() + cfg.readLeaseMillis();
    return mergeLease(key, until);
  }

  /**
   * Extends the read lease of {@code key} to at least {@code until}; lock held. Only a key without
   * a lease gets a queue entry: an extension just moves the map's value, and the reaper, popping the
   * key's older entry, queues it again at the new end ({@link #forgetEndedLeases}). So a read of a
   * leased key costs one map lookup, not a queue insertion (one per read before, 10^5 entries at
   * 10^4 reads/s with a 10 s lease). @return its end
   */
  private long mergeLease(String key, long until) {
    LeaseCell old = readLeases.get(key);
    if (old == null) {
      readLeases.put(key, new LeaseCell(until));
      leaseEnds.add(new LeaseEnd(until, key));
      return until;
    }
    if (old.until >= until) {
      return old.until;
    }
    old.until = until;
    return until;
  }

  /**
   * Forgets the read leases that ended before {@code now}; a lease extended since its queue entry
   * was made is queued again at its current end; lock held.
   */
  private void forgetEndedLeases(long now) {
    LeaseEnd e;
    while ((e = leaseEnds.peek()) != null && e.until() < now) {
      leaseEnds.poll();
      LeaseCell v = readLeases.get(e.key());
      if (v == null) {
        continue;
      }
      if (v.until < now) {
        readLeases.remove(e.key());
      } else {
        leaseEnds.add(new LeaseEnd(v.until, e.key()));
      }
    }
  }

  /**
   * The placement handed to readers of a record: built once per record (per version of the
   * object: every change replaces the record) and cached on it, so a read costs no parse and no
   * message build ({@link ObjectRecord}'s class comment; master-bridge/README.md, 2026-12-01).
   */
  private static ReplicaInfo toReplica(ObjectRecord rec) {
    ReplicaInfo v = rec.readerView();
    if (v == null) {
      v = LayoutProtos.withStatus(parse(rec.layout()), ReplicaInfo.ReplicaStatus.COMPLETE, rec.crc32c());
      rec.readerView(v);
    }
    return v;
  }

  // ---------------------------------------------------------------- removal

  /**
   * Removes a complete object. Its space is freed now, or when the last read lease on it ends.
   *
   * @return once durable, true if freeing waits for a read lease; fails with NOT_FOUND,
   *     FAILED_PRECONDITION (a put is still open)
   */
  CompletableFuture<Boolean> remove(String key) {
    checkKey(key);
    synchronized (lock) {
      alive();
      ObjectRecord rec = objs.get(key);
      if (rec == null) {
        return failAfter(dep(key), MasterException.notFound("no object with key '" + key + "'"));
      }
      if (rec.status() != ObjectRecord.COMPLETE) {
        return failAfter(dep(key), MasterException.precondition(
            "object '" + key + "' is still being written; finish it with PutEnd or undo it with"
                + " PutRevoke"));
      }
      boolean deferred = removeLocked(key, rec);
      return valueAfter(open.seq, deferred);
    }
  }

  /** Removes a complete object, lock held. @return true if its space waits for a read lease */
  private boolean removeLocked(String key, ObjectRecord rec) {
    objs.remove(key);
    delObj(key);
    long now = clock.getAsLong();
    LeaseCell l = readLeases.get(key);
    long until = Math.max(l == null ? 0 : l.until, leaseFloor);
    if (until > now) {
      String id = epoch + "/" + (++reclaimSeq);
      ReclaimRecord rr = new ReclaimRecord(key, rec.layout());
      pendingFrees.put(id, new PendingFree(until, rr));
      putReclaim(id, rr);
      return true;
    }
    release(rec.layout());
    return false;
  }

  /** Outcome of a regex removal. */
  record RemovedKeys(List<String> keys) {}

  /**
   * Removes every complete object whose key matches; objects changing meanwhile are skipped.
   *
   * @return the removed keys once durable; fails with INVALID_ARGUMENT for a bad pattern
   */
  CompletableFuture<RemovedKeys> removeByRegex(String regex) {
    List<String> keys = matching(regex);
    List<String> removed = new ArrayList<>();
    synchronized (lock) {
      alive();
      for (String k : keys) {
        ObjectRecord rec = objs.get(k);
        if (rec != null && rec.status() == ObjectRecord.COMPLETE) {
          removeLocked(k, rec);
          removed.add(k);
        }
      }
      return valueAfter(latest(), new RemovedKeys(removed));
    }
  }

  // ---------------------------------------------------------------- reaper

  private void reapQuietly() {
    try {
      reap();
    } catch (Throwable t) {
      LOG.warn("master reaper pass failed; retrying next pass", t);
    }
  }

  /** Revokes expired puts, frees space whose read leases ended, forgets ended leases. */
  void reap() {
    long now = clock.getAsLong();
    synchronized (lock) {
      if (failure != null || closing) {
        return;
      }
      for (Iterator<Map.Entry<String, Long>> it = pendingPuts.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, Long> e = it.next();
        if (e.getValue() >= now) {
          continue;
        }
        it.remove();
        ObjectRecord r = objs.get(e.getKey());
        if (r != null && r.status() != ObjectRecord.COMPLETE) {
          LOG.info("put of '{}' revoked: its lease ran out", e.getKey());
          objs.remove(e.getKey());
          delObj(e.getKey());
          release(r.layout());
        }
      }
      for (Iterator<Map.Entry<String, PendingFree>> it = pendingFrees.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, PendingFree> e = it.next();
        if (e.getValue().until() < now) {
          it.remove();
          delReclaim(e.getKey());
          release(e.getValue().record().layout());
        }
      }
      forgetEndedLeases(now);
      refreshLost();
      reapRepairs(now);
      dropEmptyLost();
    }
  }

  // ---------------------------------------------------------------- space

  /** Gives a stored layout's space back to the allocators; lock held. */
  private void release(byte[] layout) {
    for (ShardLayout s : shards(layout)) {
      Placement.SegState st = segs.get(s.segment());
      if (st != null) {
        st.alloc.free(s.offset(), s.length());
      }
    }
  }

  private static ReplicaInfo parse(byte[] layout) {
    try {
      return ReplicaInfo.parseFrom(layout);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored layout does not parse", e);
    }
  }

  private static List<ShardLayout> shards(byte[] layout) {
    List<ShardLayout> out = new ArrayList<>();
    for (BlockPlacement b : parse(layout).getBlocksList()) {
      for (BufHandle h : b.getShardsList()) {
        out.add(new ShardLayout(h.getSegmentName(), h.getOffset(), h.getSize(), h.getFirstEsi(),
            h.getEsiCount(), 0));
      }
      // regions of an open repair (MasterRepair section) take space too
      for (BufHandle h : b.getRepairShardsList()) {
        out.add(new ShardLayout(h.getSegmentName(), h.getOffset(), h.getSize(), h.getFirstEsi(),
            h.getEsiCount(), 0));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- self-healing

  // Liveness: a segment whose node id is an Ignite node id (a UUID) is LOST as soon as that node
  // is no longer in the topology this master's node sees (discovery: left or failed). Node ids
  // never come back (a restarted node has a new id), so lost is final; it is not stored: a new
  // master judges every segment against the topology when it starts. Segments mounted under other
  // node ids (tools, tests) are not judged. The check is cheap (the topology version) and runs
  // before every placement and in every reaper pass, so a PutStart or RepairStart answered after
  // the master's node saw the node go never places a shard there.
  //
  // Repairs: RepairStart records the new regions, the replaced shard indexes, an id and a
  // deadline in the object's stored layout (BlockPlacement repair_* fields), so space, ESIs and
  // the repair survive a failover like an open put; RepairEnd swaps them in with one record
  // change (atomic for readers); RepairRevoke or the reaper (deadline passed) frees the regions.
  // A repair also holds a read lease up to its deadline, so Remove of an object under repair
  // keeps the space (including the regions being written) until the repairer can no longer write.

  /** Lost segment names; lock held. */
  private final java.util.Set<String> lostSegs = new java.util.HashSet<>();
  /** Topology version of the last liveness check, -1 to force one; lock held. */
  private long lostTopVer = -1;
  /** Open repairs, "key\n block id" to deadline; lock held. */
  private final HashMap<String, Long> openRepairs = new HashMap<>();
  /** Keys that may have a shard marked corrupt (a superset: cleaned by ListDegraded); lock held. */
  private final java.util.Set<String> corruptKeys = new java.util.HashSet<>();

  private static boolean isNodeUuid(String id) {
    if (id.length() != 36) {
      return false;
    }
    try {
      UUID.fromString(id);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Marks segments whose node left the topology as lost; lock held. */
  private void refreshLost() {
    long v;
    try {
      v = ignite.cluster().topologyVersion();
    } catch (RuntimeException e) {
      return; // node stopping
    }
    if (v == lostTopVer) {
      return;
    }
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (org.apache.ignite.cluster.ClusterNode n : ignite.cluster().nodes()) {
      ids.add(n.id().toString());
    }
    lostTopVer = v;
    for (Placement.SegState st : segs.values()) {
      String node = st.record.nodeId();
      if (isNodeUuid(node) && !ids.contains(node) && lostSegs.add(st.record.name())) {
        LOG.warn("segment '{}' is LOST: its node {} left the grid; {} shards there count as lost",
            st.record.name(), node, st.alloc.liveCount());
      }
    }
    lostSegs.retainAll(segs.keySet());
  }

  /** @return segments new shards may go to (not lost); lock held */
  private List<Placement.SegState> placeable() {
    refreshLost();
    List<Placement.SegState> out = new ArrayList<>(segs.size());
    for (Placement.SegState st : segs.values()) {
      if (!lostSegs.contains(st.record.name())) {
        out.add(st);
      }
    }
    return out;
  }

  /** Forgets lost segments none of whose space is referenced any more; lock held. */
  private void dropEmptyLost() {
    for (Iterator<String> it = lostSegs.iterator(); it.hasNext(); ) {
      String name = it.next();
      Placement.SegState st = segs.get(name);
      if (st == null) {
        it.remove();
      } else if (st.alloc.liveCount() == 0) {
        it.remove();
        segs.remove(name);
        delSeg(name);
        LOG.info("lost segment '{}' dropped: none of its shards is referenced any more", name);
      }
    }
  }

  /** @return the names of lost segments (a snapshot) */
  java.util.Set<String> lostSegments() {
    synchronized (lock) {
      refreshLost();
      return new java.util.HashSet<>(lostSegs);
    }
  }

  private static String repairKey(String key, int block) {
    return key + "\n" + block;
  }

  private void indexRepairs(String key, byte[] layout) {
    for (BlockPlacement b : parse(layout).getBlocksList()) {
      if (!b.getRepairId().isEmpty()) {
        openRepairs.put(repairKey(key, b.getBlockId()), b.getRepairDeadlineUnixMs());
      }
      for (BufHandle h : b.getShardsList()) {
        if (h.getCorrupt()) {
          corruptKeys.add(key);
        }
      }
    }
  }

  /** @return true if a shard of the layout is marked corrupt */
  private static boolean hasCorrupt(ReplicaInfo r) {
    for (BlockPlacement b : r.getBlocksList()) {
      for (BufHandle h : b.getShardsList()) {
        if (h.getCorrupt()) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Marks a shard of a complete object corrupt (a reader found its header or CRC32C wrong on a
   * live node): it then counts as lost in ListDegraded, and the repairer replaces it. The mark is
   * part of the stored layout, so it survives a failover; RepairEnd drops it with the shard.
   *
   * @return once durable, true if newly marked, false if it was marked already; fails with
   *     NOT_FOUND (no such object or no such shard: removed, or already replaced),
   *     FAILED_PRECONDITION (the object is still being written), INVALID_ARGUMENT (no such block)
   */
  CompletableFuture<Boolean> reportCorrupt(String key, int block, String segment, long offset,
      String reason) {
    checkKey(key);
    synchronized (lock) {
      alive();
      ObjectRecord rec = objs.get(key);
      if (rec == null) {
        return failAfter(dep(key), MasterException.notFound(
            "no object with key '" + key + "' (removed?); nothing to mark corrupt"));
      }
      if (rec.status() != ObjectRecord.COMPLETE) {
        return failAfter(dep(key), MasterException.precondition("object '" + key
            + "' is still being written; only shards of complete objects can be reported corrupt"));
      }
      ReplicaInfo stored = parse(rec.layout());
      int bi = blockIndex(stored, block);
      if (bi < 0) {
        return failAfter(dep(key), MasterException.invalid("object '" + key + "' has no block "
            + block + "; its blocks are 0.." + (stored.getBlocksCount() - 1)));
      }
      BlockPlacement b = stored.getBlocks(bi);
      int si = -1;
      for (int i = 0; i < b.getShardsCount(); i++) {
        if (b.getShards(i).getSegmentName().equals(segment) && b.getShards(i).getOffset() == offset) {
          si = i;
          break;
        }
      }
      if (si < 0) {
        return failAfter(dep(key), MasterException.notFound("block " + block + " of '" + key
            + "' has no shard at " + segment + "@" + offset + " (already replaced?)"));
      }
      if (b.getShards(si).getCorrupt()) {
        return valueAfter(dep(key), false);
      }
      ReplicaInfo ns = stored.toBuilder().setBlocks(bi, b.toBuilder()
          .setShards(si, b.getShards(si).toBuilder().setCorrupt(true))).build();
      ObjectRecord nr = new ObjectRecord(rec.status(), rec.size(), rec.putDeadlineMillis(),
          rec.shardCount(), ns.toByteArray(), rec.crc32c());
      objs.put(key, nr);
      putObj(key, nr);
      corruptKeys.add(key);
      LOG.warn("shard {}@{} (ESIs {}+{}) of '{}' block {} reported corrupt ({}); it counts as lost"
          + " until repaired", segment, offset, b.getShards(si).getFirstEsi(),
          b.getShards(si).getEsiCount(), key, block, reason == null || reason.isEmpty() ? "no reason given" : reason);
      return valueAfter(open.seq, true);
    }
  }

  /** Revokes repairs whose deadline passed; lock held. */
  private void reapRepairs(long now) {
    for (Iterator<Map.Entry<String, Long>> it = openRepairs.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Long> e = it.next();
      if (e.getValue() >= now) {
        continue;
      }
      it.remove();
      int nl = e.getKey().lastIndexOf('\n');
      String key = e.getKey().substring(0, nl);
      int block = Integer.parseInt(e.getKey().substring(nl + 1));
      ObjectRecord rec = objs.get(key);
      if (rec == null) {
        continue; // removed: its space went with it
      }
      ReplicaInfo stored = parse(rec.layout());
      int bi = blockIndex(stored, block);
      if (bi < 0 || stored.getBlocks(bi).getRepairId().isEmpty()
          || stored.getBlocks(bi).getRepairDeadlineUnixMs() >= now) {
        continue;
      }
      LOG.info("repair of '{}' block {} revoked: its lease ran out", key, block);
      dropRepair(key, rec, stored, bi);
    }
  }

  private static int blockIndex(ReplicaInfo stored, int block) {
    for (int i = 0; i < stored.getBlocksCount(); i++) {
      if (stored.getBlocks(i).getBlockId() == block) {
        return i;
      }
    }
    return -1;
  }

  /** Frees an open repair's regions and clears it from the record; lock held. */
  private void dropRepair(String key, ObjectRecord rec, ReplicaInfo stored, int bi) {
    BlockPlacement b = stored.getBlocks(bi);
    for (BufHandle h : b.getRepairShardsList()) {
      Placement.SegState st = segs.get(h.getSegmentName());
      if (st != null) {
        st.alloc.free(h.getOffset(), h.getSize());
      }
    }
    ReplicaInfo.Builder nb = stored.toBuilder();
    nb.setBlocks(bi, clearRepair(b.toBuilder()));
    ObjectRecord nr = new ObjectRecord(rec.status(), rec.size(), rec.putDeadlineMillis(),
        rec.shardCount(), nb.build().toByteArray(), rec.crc32c());
    objs.put(key, nr);
    putObj(key, nr);
    openRepairs.remove(repairKey(key, b.getBlockId()));
    endRepairLease(key);
  }

  /**
   * After a repair of {@code key} ended: its read lease falls back to what readers may hold (every
   * reader lease ends before now + the read lease) and the other open repairs of the key; lock held.
   */
  private void endRepairLease(String key) {
    long until = clock.getAsLong() + cfg.readLeaseMillis();
    String prefix = key + "\n";
    for (Map.Entry<String, Long> e : openRepairs.entrySet()) {
      if (e.getKey().startsWith(prefix) && e.getKey().indexOf('\n', prefix.length()) < 0) {
        until = Math.max(until, e.getValue());
      }
    }
    LeaseCell c = readLeases.get(key);
    if (c != null) {
      c.until = until;
      leaseEnds.add(new LeaseEnd(until, key));
    }
  }

  /**
   * RepairEnd or RepairRevoke of a repair whose object was removed while it was open: Remove kept
   * the object's space (the repair's regions included) as a pending free until the repair's
   * deadline, because the repairer might still write. A repairer calls RepairEnd or RepairRevoke
   * only once it no longer writes, so from now on the space waits only for readers (every reader
   * lease ends before now + the read lease) and for other repairs of the object still open. Without
   * this the space stayed held for the whole repair lease (the plugin's stashLeaseMillis, 10 min by
   * default). Lock held; does nothing if no pending free holds repair {@code id}.
   */
  private void endRemovedRepair(String key, int block, String id) {
    if (id.isEmpty() || objs.get(key) != null) {
      return;
    }
    long now = clock.getAsLong();
    boolean found = false;
    for (Map.Entry<String, PendingFree> e : pendingFrees.entrySet()) {
      ReclaimRecord r = e.getValue().record();
      if (!r.key().equals(key)) {
        continue;
      }
      ReplicaInfo stored = parse(r.layout());
      int bi = blockIndex(stored, block);
      if (bi < 0 || !stored.getBlocks(bi).getRepairId().equals(id)) {
        continue;
      }
      found = true;
      long until = now + cfg.readLeaseMillis();
      for (BlockPlacement b : stored.getBlocksList()) {
        if (b.getBlockId() != block && !b.getRepairId().isEmpty() && b.getRepairDeadlineUnixMs() > 0) {
          until = Math.max(until, b.getRepairDeadlineUnixMs());
        }
      }
      if (stored.getBlocks(bi).getRepairDeadlineUnixMs() > 0) {
        // Stored too, so that a master rebuilt from the caches does not wait for this repair's
        // deadline again: the id stays (a repeated report still matches), the regions stay (they
        // are freed with the rest), only the deadline goes.
        ReclaimRecord nr = new ReclaimRecord(r.key(), stored.toBuilder().setBlocks(bi,
            stored.getBlocks(bi).toBuilder().clearRepairDeadlineUnixMs()).build().toByteArray());
        putReclaim(e.getKey(), nr);
        r = nr;
      }
      if (until < e.getValue().until() || r != e.getValue().record()) {
        e.setValue(new PendingFree(Math.min(until, e.getValue().until()), r));
      }
    }
    if (found) {
      openRepairs.remove(repairKey(key, block));
      endRepairLease(key);
    }
  }

  private static BlockPlacement.Builder clearRepair(BlockPlacement.Builder b) {
    return b.clearRepairShards().clearRepairId().clearRepairDeadlineUnixMs().clearRepairReplaces();
  }

  /** One object with lost shards. */
  record Degraded(String key, int lostShards, int totalShards, List<Integer> blocks, boolean repairing) {}

  /** Outcome of {@link #listDegraded}. */
  record DegradedList(List<Degraded> items, boolean truncated) {}

  /**
   * @param limit at most this many, 0 for {@link MasterConfig#maxRegexMatches()}
   * @param regex RE2 filter on the whole key, or empty for all
   * @return complete objects with shards on lost segments, in key order
   */
  CompletableFuture<DegradedList> listDegraded(int limit, String regex) {
    Pattern p = regex == null || regex.isEmpty() ? null : compile(regex);
    int max = limit <= 0 ? cfg.maxRegexMatches() : Math.min(limit, cfg.maxRegexMatches());
    java.util.Set<String> lost;
    java.util.Set<String> repairing = new java.util.HashSet<>();
    List<String> corrupt;
    synchronized (lock) {
      alive();
      refreshLost();
      lost = new java.util.HashSet<>(lostSegs);
      for (String rk : openRepairs.keySet()) {
        repairing.add(rk.substring(0, rk.lastIndexOf('\n')));
      }
      // forget keys whose corrupt shards were replaced or which were removed
      for (Iterator<String> it = corruptKeys.iterator(); it.hasNext(); ) {
        ObjectRecord r = objs.get(it.next());
        if (r == null || !hasCorrupt(parse(r.layout()))) {
          it.remove();
        }
      }
      corrupt = new ArrayList<>(corruptKeys);
    }
    List<Degraded> out = new ArrayList<>();
    if (!lost.isEmpty() || !corrupt.isEmpty()) {
      // without lost segments only the objects with corrupt shards need a look
      Iterable<Map.Entry<String, ObjectRecord>> scan = objs.entrySet();
      if (lost.isEmpty()) {
        Map<String, ObjectRecord> some = new HashMap<>();
        for (String k : corrupt) {
          ObjectRecord r = objs.get(k);
          if (r != null) {
            some.put(k, r);
          }
        }
        scan = some.entrySet();
      }
      for (Map.Entry<String, ObjectRecord> e : scan) {
        if (e.getValue().status() != ObjectRecord.COMPLETE || (p != null && !p.matches(e.getKey()))) {
          continue;
        }
        int lostShards = 0;
        int total = 0;
        List<Integer> blocks = new ArrayList<>();
        for (BlockPlacement b : parse(e.getValue().layout()).getBlocksList()) {
          boolean hit = false;
          for (BufHandle h : b.getShardsList()) {
            total++;
            if (h.getCorrupt() || lost.contains(h.getSegmentName())) {
              lostShards++;
              hit = true;
            }
          }
          if (hit) {
            blocks.add(b.getBlockId());
          }
        }
        if (lostShards > 0) {
          out.add(new Degraded(e.getKey(), lostShards, total, blocks, repairing.contains(e.getKey())));
        }
      }
    }
    out.sort(java.util.Comparator.comparing(Degraded::key));
    boolean truncated = out.size() > max;
    return CompletableFuture.completedFuture(
        new DegradedList(truncated ? new ArrayList<>(out.subList(0, max)) : out, truncated));
  }

  /** Result of RepairStart. */
  record RepairStartResult(String id, List<BufHandle> shards, long deadline, ReplicaInfo replica) {}

  /**
   * Starts the repair of one block: allocates regions for new symbols with fresh ESIs.
   *
   * <p>Where and how much: the surviving shards (all but {@code lost}) stay; first each lost shard
   * gets a replacement of the same symbol count on a live failure unit holding no shard of the
   * block (the unit's segment with the highest free ratio); if there are too few such units, the
   * remaining units u get topped up so that each holds at least {@code ceil((K + h) / (u - m))}
   * symbols of the block, which restores tolerance m: any u - m units left hold K + h symbols.
   *
   * @param lost indexes of the block's shards to replace; every shard on a lost segment must be
   *     among them
   * @param leaseMillis repair lease, -1 for the put lease default
   * @return the new regions once durable; fails with NOT_FOUND, INVALID_ARGUMENT,
   *     FAILED_PRECONDITION (not complete, a repair is open, too few live units),
   *     RESOURCE_EXHAUSTED
   */
  CompletableFuture<RepairStartResult> repairStart(String key, int block, List<Integer> lost,
      long leaseMillis) {
    checkKey(key);
    if (leaseMillis == 0 || leaseMillis > 86_400_000L) {
      throw MasterException.invalid("repair lease = " + leaseMillis + " ms for '" + key
          + "'; expected 1..86400000, or unset for the default " + cfg.putLeaseMillis());
    }
    long lease = leaseMillis < 0 ? cfg.putLeaseMillis() : leaseMillis;
    synchronized (lock) {
      alive();
      long now = clock.getAsLong();
      ObjectRecord rec = objs.get(key);
      if (rec == null) {
        return failAfter(dep(key), MasterException.notFound(
            "no object with key '" + key + "' (removed?); nothing to repair"));
      }
      if (rec.status() != ObjectRecord.COMPLETE) {
        return failAfter(dep(key), MasterException.precondition(
            "object '" + key + "' is still being written; repair only complete objects"));
      }
      ReplicaInfo stored = parse(rec.layout());
      int bi = blockIndex(stored, block);
      if (bi < 0) {
        return failAfter(dep(key), MasterException.invalid("object '" + key + "' has no block "
            + block + "; its blocks are 0.." + (stored.getBlocksCount() - 1)));
      }
      BlockPlacement b = stored.getBlocks(bi);
      if (!b.getRepairId().isEmpty()) {
        if (b.getRepairDeadlineUnixMs() >= now) {
          return failAfter(dep(key), MasterException.precondition("a repair of block " + block
              + " of '" + key + "' is already open (id " + b.getRepairId() + ", lease until "
              + b.getRepairDeadlineUnixMs() + "); finish it with RepairEnd or undo it with"
              + " RepairRevoke"));
        }
        dropRepair(key, rec, stored, bi);
        rec = objs.get(key);
        stored = parse(rec.layout());
        b = stored.getBlocks(bi);
      }
      refreshLost();
      java.util.Set<Integer> gone = new TreeSet<>();
      for (Integer i : lost) {
        if (i == null || i < 0 || i >= b.getShardsCount()) {
          return failAfter(dep(key), MasterException.invalid("lost shard index " + i + " for block "
              + block + " of '" + key + "'; expected 0.." + (b.getShardsCount() - 1)));
        }
        if (!gone.add(i)) {
          return failAfter(dep(key), MasterException.invalid(
              "lost shard index " + i + " is listed twice for block " + block + " of '" + key + "'"));
        }
      }
      if (gone.isEmpty()) {
        return failAfter(dep(key), MasterException.invalid(
            "RepairStart of block " + block + " of '" + key + "' names no lost shard"));
      }
      // surviving symbols per failure unit; the next fresh ESI
      Map<String, Integer> unitSyms = new HashMap<>();
      long nextEsi = b.getNextEsi();
      int perShard = 0;
      for (int i = 0; i < b.getShardsCount(); i++) {
        BufHandle h = b.getShards(i);
        nextEsi = Math.max(nextEsi, (long) h.getFirstEsi() + h.getEsiCount());
        perShard = Math.max(perShard, h.getEsiCount());
        if (gone.contains(i)) {
          continue;
        }
        Placement.SegState st = segs.get(h.getSegmentName());
        if (st == null || lostSegs.contains(h.getSegmentName())) {
          return failAfter(dep(key), MasterException.invalid("shard " + i + " of block " + block
              + " of '" + key + "' is on lost segment '" + h.getSegmentName()
              + "'; list it among the lost shards"));
        }
        unitSyms.merge(st.record.failureUnit(), h.getEsiCount(), Integer::sum);
      }
      // live units and their best segment for a region of `len` bytes
      int t = otiSymbolSize(stored);
      Map<String, List<Placement.SegState>> units = new LinkedHashMap<>();
      for (Placement.SegState st : placeable()) {
        units.computeIfAbsent(st.record.failureUnit(), u -> new ArrayList<>()).add(st);
      }
      int m = stored.getLossTolerance();
      int h = cfg.defaultDecodeMargin();
      int k = b.getK();
      Map<String, Integer> add = new LinkedHashMap<>();
      List<String> freeUnits = new ArrayList<>();
      for (String u : units.keySet()) {
        if (!unitSyms.containsKey(u)) {
          freeUnits.add(u);
        }
      }
      freeUnits.sort(java.util.Comparator.comparingDouble(
          (String u) -> -bestRatio(units.get(u))).thenComparing(u -> u));
      int replace = Math.min(gone.size(), freeUnits.size());
      Map<String, Integer> after = new HashMap<>(unitSyms);
      for (int i = 0; i < replace; i++) {
        add.put(freeUnits.get(i), perShard);
        after.put(freeUnits.get(i), perShard);
      }
      int u = after.size();
      if (u < m + 1) {
        return failAfter(dep(key), MasterException.precondition("restoring tolerance " + m + " of '"
            + key + "' needs shards on " + (m + 1) + " live failure units; only " + u
            + " hold or can take shards of block " + block + "; add nodes"));
      }
      int target = symbolsPerShard(k, h, u, m);
      for (Map.Entry<String, Integer> e : after.entrySet()) {
        if (e.getValue() < target) {
          add.merge(e.getKey(), target - e.getValue(), Integer::sum);
        }
      }
      long total = 0;
      for (int c : add.values()) {
        total += c;
      }
      if (nextEsi + total >= ShardLayout.ESI_LIMIT) {
        return failAfter(dep(key), MasterException.exhausted("block " + block + " of '" + key
            + "' has used ESIs up to " + nextEsi + "; " + total + " more would pass the 24-bit ESI"
            + " limit; stash the object again"));
      }
      List<BufHandle> regions = new ArrayList<>();
      List<long[]> taken = new ArrayList<>();
      List<Placement.SegState> takenSeg = new ArrayList<>();
      long esi = nextEsi;
      for (Map.Entry<String, Integer> e : add.entrySet()) {
        long len = ShardLayout.HEADER_BYTES + (long) e.getValue() * t;
        Placement.SegState best = null;
        for (Placement.SegState st : units.getOrDefault(e.getKey(), List.of())) {
          if (st.alloc.largestFree() >= st.alloc.footprint(len)
              && (best == null || st.freeRatio() > best.freeRatio())) {
            best = st;
          }
        }
        long off = best == null ? -1 : best.alloc.allocate(len);
        if (off < 0) {
          for (int i = 0; i < taken.size(); i++) {
            takenSeg.get(i).alloc.free(taken.get(i)[0], taken.get(i)[1]);
          }
          return failAfter(dep(key), MasterException.exhausted("repair of block " + block + " of '"
              + key + "' needs a free range of " + len + " bytes on " + e.getKey()
              + "; its segments have none; free space or add nodes"));
        }
        taken.add(new long[] {off, len});
        takenSeg.add(best);
        regions.add(BufHandle.newBuilder().setSegmentName(best.record.name()).setOffset(off)
            .setSize(len).setFirstEsi((int) esi).setEsiCount(e.getValue())
            .setStatus(BufHandle.BufStatus.INIT).build());
        esi += e.getValue();
      }
      String id = UUID.randomUUID().toString();
      long deadline = now + lease;
      BlockPlacement nb = b.toBuilder().addAllRepairShards(regions).setRepairId(id)
          .setRepairDeadlineUnixMs(deadline).addAllRepairReplaces(gone)
          .setNextEsi((int) esi).build();
      ReplicaInfo ns = stored.toBuilder().setBlocks(bi, nb).build();
      ObjectRecord nr = new ObjectRecord(rec.status(), rec.size(), rec.putDeadlineMillis(),
          rec.shardCount(), ns.toByteArray(), rec.crc32c());
      objs.put(key, nr);
      putObj(key, nr);
      openRepairs.put(repairKey(key, block), deadline);
      mergeLease(key, deadline);
      ReplicaInfo view = toReplica(nr);
      LOG.info("repair {} of '{}' block {}: replacing shards {} with {} new shards ({} symbols, ESIs"
          + " {}..{})", id, key, block, gone, regions.size(), total, nextEsi, esi - 1);
      return durable(open.seq).thenApply(v -> new RepairStartResult(id, regions, deadline, view));
    }
  }

  private static int otiSymbolSize(ReplicaInfo r) {
    byte[] o = r.getOti().toByteArray();
    return ((o[6] & 0xFF) << 8) | (o[7] & 0xFF);
  }

  private static double bestRatio(List<Placement.SegState> segsOfUnit) {
    double r = 0;
    for (Placement.SegState st : segsOfUnit) {
      r = Math.max(r, st.freeRatio());
    }
    return r;
  }

  /** @return ceil((K + h) / (u - m)) */
  private static int symbolsPerShard(int k, int h, int u, int m) {
    return Placement.symbolsPerShard(k, h, u, m);
  }

  private RepairCheck checkRepair(String key, int block, String id, String call) {
    ObjectRecord rec = objs.get(key);
    if (rec == null) {
      throw MasterException.notFound("object '" + key + "' is gone (removed while being repaired);"
          + " nothing to " + call);
    }
    ReplicaInfo stored = parse(rec.layout());
    int bi = blockIndex(stored, block);
    if (bi < 0 || !stored.getBlocks(bi).getRepairId().equals(id) || id.isEmpty()) {
      throw MasterException.notFound("no open repair '" + id + "' of block " + block + " of '"
          + key + "' (revoked, its lease ran out, or already ended); start a new one");
    }
    return new RepairCheck(rec, stored, bi);
  }

  private record RepairCheck(ObjectRecord rec, ReplicaInfo stored, int bi) {}

  /**
   * Completes a repair: in one record change the new shards join the block with their checksums,
   * the replaced shards leave it and their space is released.
   *
   * @return done once durable; fails with NOT_FOUND (object removed, repair unknown),
   *     FAILED_PRECONDITION (lease ran out), INVALID_ARGUMENT (checksum count)
   */
  CompletableFuture<Void> repairEnd(String key, int block, String id, int[] crcs) {
    checkKey(key);
    synchronized (lock) {
      alive();
      RepairCheck c;
      try {
        c = checkRepair(key, block, id, "end");
      } catch (MasterException e) {
        endRemovedRepair(key, block, id);
        return failAfter(dep(key), e);
      }
      BlockPlacement b = c.stored().getBlocks(c.bi());
      long now = clock.getAsLong();
      if (b.getRepairDeadlineUnixMs() < now) {
        return failAfter(dep(key), MasterException.precondition("the lease of repair '" + id
            + "' of '" + key + "' ran out " + (now - b.getRepairDeadlineUnixMs())
            + " ms ago; its regions are freed; start a new repair"));
      }
      if (crcs.length != b.getRepairShardsCount()) {
        return failAfter(dep(key), MasterException.invalid("RepairEnd of '" + key + "' carries "
            + crcs.length + " checksums; repair '" + id + "' has " + b.getRepairShardsCount()
            + " new shards; send one CRC32C per new shard in RepairStart's order"));
      }
      java.util.Set<Integer> gone = new java.util.HashSet<>(b.getRepairReplacesList());
      int first = 0;
      for (int i = 0; i < c.bi(); i++) {
        first += c.stored().getBlocks(i).getShardsCount();
      }
      int[] old = c.rec().crc32c();
      List<Integer> newCrcs = new ArrayList<>();
      for (int i = 0; i < first; i++) {
        newCrcs.add(old[i]);
      }
      BlockPlacement.Builder nb = clearRepair(b.toBuilder()).clearShards();
      for (int i = 0; i < b.getShardsCount(); i++) {
        BufHandle h = b.getShards(i);
        if (gone.contains(i)) {
          Placement.SegState st = segs.get(h.getSegmentName());
          if (st != null) {
            st.alloc.free(h.getOffset(), h.getSize());
          }
        } else {
          nb.addShards(h);
          newCrcs.add(old[first + i]);
        }
      }
      for (int i = 0; i < b.getRepairShardsCount(); i++) {
        nb.addShards(b.getRepairShards(i).toBuilder().clearStatus());
        newCrcs.add(crcs[i]);
      }
      for (int i = first + b.getShardsCount(); i < old.length; i++) {
        newCrcs.add(old[i]);
      }
      int[] nc = new int[newCrcs.size()];
      for (int i = 0; i < nc.length; i++) {
        nc[i] = newCrcs.get(i);
      }
      ReplicaInfo ns = c.stored().toBuilder().setBlocks(c.bi(), nb).build();
      ObjectRecord nr = new ObjectRecord(c.rec().status(), c.rec().size(),
          c.rec().putDeadlineMillis(), nc.length, ns.toByteArray(), nc);
      objs.put(key, nr);
      putObj(key, nr);
      openRepairs.remove(repairKey(key, block));
      endRepairLease(key);
      LOG.info("repair {} of '{}' block {} ended: {} shards replaced by {}", id, key, block,
          gone.size(), b.getRepairShardsCount());
      return durable(open.seq);
    }
  }

  /**
   * Undoes an open repair and frees its regions.
   *
   * @return done once durable; fails with NOT_FOUND
   */
  CompletableFuture<Void> repairRevoke(String key, int block, String id) {
    checkKey(key);
    synchronized (lock) {
      alive();
      RepairCheck c;
      try {
        c = checkRepair(key, block, id, "revoke");
      } catch (MasterException e) {
        endRemovedRepair(key, block, id);
        return failAfter(dep(key), e);
      }
      dropRepair(key, c.rec(), c.stored(), c.bi());
      return durable(open.seq);
    }
  }

  /**
   * Checks that the state in memory is what the caches say, after waiting for every change to be
   * durable: the same objects (status, layout, checksums, put deadline), the same pending frees
   * and segments; allocators rebuilt from the caches (which fails on overlapping shards) have the
   * same free bytes per segment. Meant for tests and diagnostics while no call is in flight. The
   * reaper may still change state meanwhile (a pending free whose lease ended is released, and its
   * record removed from the cache in a batch of its own), so a comparison that saw any change
   * between reading the caches and reading memory is thrown away and taken again (up to 50 times).
   *
   * @return the problems found, empty when consistent
   */
  List<String> checkConsistency() {
    for (int attempt = 1; ; attempt++) {
      flush();
      long mark;
      synchronized (lock) {
        mark = open.isEmpty() && inflight.isEmpty() ? committed : -1;
      }
      List<String> problems = mark < 0 ? null : checkConsistencyAt(mark);
      if (problems != null) {
        return problems;
      }
      if (attempt == 50) {
        throw new IllegalStateException("the master's state kept changing during 50 consistency checks");
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  /** One comparison; null if the state changed after {@code mark} (the last durable batch). */
  private List<String> checkConsistencyAt(long mark) {
    List<String> problems = new ArrayList<>();
    Map<String, SpaceAllocator> fresh = new HashMap<>();
    for (Cache.Entry<String, SegmentRecord> e : segments.query(new ScanQuery<String, SegmentRecord>())) {
      fresh.put(e.getKey(), new SpaceAllocator(e.getValue().sizeBytes(), cfg.allocAlignment()));
    }
    Map<String, ObjectRecord> cachedObjs = new HashMap<>();
    List<Map.Entry<String, byte[]>> all = new ArrayList<>();
    for (Cache.Entry<String, ObjectRecord> e : objects.query(new ScanQuery<String, ObjectRecord>())) {
      all.add(Map.entry("object " + e.getKey(), e.getValue().layout()));
      cachedObjs.put(e.getKey(), e.getValue());
    }
    Map<String, ReclaimRecord> cachedFrees = new HashMap<>();
    for (Cache.Entry<String, ReclaimRecord> e : reclaim.query(new ScanQuery<String, ReclaimRecord>())) {
      all.add(Map.entry("pending free of " + e.getValue().key(), e.getValue().layout()));
      cachedFrees.put(e.getKey(), e.getValue());
    }
    for (Map.Entry<String, byte[]> e : all) {
      for (ShardLayout s : shards(e.getValue())) {
        SpaceAllocator a = fresh.get(s.segment());
        if (a == null) {
          problems.add(e.getKey() + " has a shard on unmounted segment " + s.segment());
          continue;
        }
        try {
          a.reserve(s.offset(), s.length());
        } catch (RuntimeException ex) {
          problems.add(e.getKey() + ": shard " + s + " overlaps another: " + ex.getMessage());
        }
      }
    }
    synchronized (lock) {
      if (!open.isEmpty() || !inflight.isEmpty() || committed != mark) {
        return null;
      }
      if (!fresh.keySet().equals(segs.keySet())) {
        problems.add("mounted segments in cache " + fresh.keySet() + " != in memory " + segs.keySet());
      }
      if (!cachedObjs.equals(new HashMap<>(objs))) {
        for (String k : new TreeSet<>(cachedObjs.keySet())) {
          if (!Objects.equals(cachedObjs.get(k), objs.get(k))) {
            problems.add("object " + k + ": cache " + cachedObjs.get(k) + ", memory " + objs.get(k));
          }
        }
        for (String k : new TreeSet<>(objs.keySet())) {
          if (!cachedObjs.containsKey(k)) {
            problems.add("object " + k + " is in memory but not in the cache");
          }
        }
      }
      Map<String, ReclaimRecord> memFrees = new HashMap<>();
      pendingFrees.forEach((k, v) -> memFrees.put(k, v.record()));
      if (!cachedFrees.equals(memFrees)) {
        problems.add("pending frees in cache " + new TreeSet<>(cachedFrees.keySet()) + " != in memory "
            + new TreeSet<>(memFrees.keySet()));
      }
      for (Map.Entry<String, Placement.SegState> e : segs.entrySet()) {
        try {
          e.getValue().alloc.checkInvariants();
        } catch (IllegalStateException ex) {
          problems.add("segment " + e.getKey() + ": " + ex.getMessage());
        }
        SpaceAllocator f = fresh.get(e.getKey());
        if (f != null && f.freeBytes() != e.getValue().alloc.freeBytes()) {
          problems.add(
              "segment " + e.getKey() + ": " + e.getValue().alloc.freeBytes()
                  + " bytes free in memory, " + f.freeBytes() + " according to the caches");
        }
      }
    }
    return problems;
  }

  /**
   * Stops the reaper, commits what is still open (one attempt) and stops the committer; calls not
   * yet durable then fail UNAVAILABLE.
   */
  @Override
  public void close() {
    reaper.shutdownNow();
    synchronized (lock) {
      closing = true;
      lock.notifyAll();
    }
    try {
      for (Thread t : committers) {
        t.join(TX_TIMEOUT_MS + 5_000);
      }
      reaper.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Batch> left = new ArrayList<>();
    synchronized (lock) {
      if (failure == null) {
        failure = MasterException.unavailable("the master stopped; retry to reach its successor");
      }
      left.addAll(inflight.values());
      left.add(open);
    }
    for (Batch b : left) {
      b.done.completeExceptionally(failure);
    }
  }
}
