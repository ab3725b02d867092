package io.runicquanta.master;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.runicquanta.codec.layout.BlockLayout;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import io.runicquanta.master.proto.BlockPlacement;
import io.runicquanta.master.proto.BufHandle;
import io.runicquanta.master.proto.ReplicaInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.cache.Cache;
import javax.cache.processor.MutableEntry;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.cache.CacheEntryProcessor;
import org.apache.ignite.cache.query.QueryCursor;
import org.apache.ignite.cache.query.ScanQuery;
import org.apache.ignite.lang.IgniteBiPredicate;
import org.apache.ignite.transactions.Transaction;
import org.apache.ignite.transactions.TransactionConcurrency;
import org.apache.ignite.transactions.TransactionIsolation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's logic: segments, coded placement, object lifecycle and leases, with all durable
 * state in Ignite caches ({@link MasterCaches}). Thread safe.
 *
 * <h2>State and its owner</h2>
 *
 * Durable state is the three caches: segments, objects (each record lists its shards, so the
 * records are the allocations) and pending frees. Every change is one Ignite transaction: PutStart
 * is a transactional {@code putIfAbsent} (so of many racing PutStarts on one key exactly one wins),
 * PutEnd, PutRevoke and lease revocation are single-key transactional entry processors, Remove is a
 * pessimistic transaction that deletes the object and records its space as a pending free.
 *
 * <p>Free space is derived state: one {@link SpaceAllocator} per segment, rebuilt from the caches
 * when this master starts and changed under {@code placementLock}. Space is taken in memory before
 * the transaction that records it (and given back if that fails) and given back only after the
 * transaction that releases it commits, so two objects never share a byte even while transactions
 * are in flight. Only the one master (an Ignite cluster singleton) writes these caches.
 *
 * <h2>Leases</h2>
 *
 * PutStart gives a put lease ({@link MasterConfig#putLeaseMillis()}); the deadline is stored in the
 * record and indexed in memory; the reaper revokes a put still open after it and frees its space.
 * GetReplicaList gives a read lease ({@link MasterConfig#readLeaseMillis()}). Read leases are kept
 * in memory only, to keep reads free of writes; a new master makes up for the ones it does not
 * know by treating every object as leased until one read lease after it started. The lease is taken
 * before the record is read, and Remove looks at the leases only after its transaction commits, so
 * a reader that saw the object always holds a lease Remove sees: its space then stays taken (a
 * pending free) until the lease ends.
 */
final class MasterCore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MasterCore.class);
  static final int MAX_SEGMENT_NAME = 256;
  static final int MAX_PATTERN_CHARS = 4096;
  static final int MAX_LOSS_TOLERANCE = 254;

  private final Ignite ignite;
  private final MasterConfig cfg;
  private final LongSupplier clock;
  private final IgniteCache<String, SegmentRecord> segments;
  private final IgniteCache<String, ObjectRecord> objects;
  private final IgniteCache<String, ReclaimRecord> reclaim;

  private final Object placementLock = new Object();
  private final Map<String, Placement.SegState> segs = new LinkedHashMap<>();
  private final ConcurrentHashMap<String, Long> pendingPuts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> readLeases = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> pendingFrees = new ConcurrentHashMap<>();
  private final long leaseFloor;
  private final ScheduledExecutorService reaper;

  /**
   * Opens the caches (creating them if needed), rebuilds free space from them and starts the
   * reaper thread.
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
    rebuild(now);
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

  private void rebuild(long now) {
    int objs = 0;
    int frees = 0;
    synchronized (placementLock) {
      segs.clear();
      for (Cache.Entry<String, SegmentRecord> e : segments.query(new ScanQuery<String, SegmentRecord>())) {
        segs.put(e.getKey(), new Placement.SegState(e.getValue(), cfg.allocAlignment()));
      }
      try (QueryCursor<Cache.Entry<String, ObjectRecord>> c = objects.query(new ScanQuery<>())) {
        for (Cache.Entry<String, ObjectRecord> e : c) {
          reserveAll(e.getKey(), e.getValue().layout());
          if (e.getValue().status() != ObjectRecord.COMPLETE) {
            pendingPuts.put(e.getKey(), e.getValue().putDeadlineMillis());
          }
          objs++;
        }
      }
      try (QueryCursor<Cache.Entry<String, ReclaimRecord>> c = reclaim.query(new ScanQuery<>())) {
        for (Cache.Entry<String, ReclaimRecord> e : c) {
          reserveAll(e.getValue().key(), e.getValue().layout());
          pendingFrees.put(e.getKey(), leaseFloor);
          frees++;
        }
      }
    }
    LOG.info(
        "master state rebuilt: {} segments, {} objects, {} pending frees, {} open puts",
        segs.size(), objs, frees, pendingPuts.size());
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
   * @throws MasterException INVALID_ARGUMENT for a bad field, ALREADY_EXISTS if mounted
   */
  void mountSegment(SegmentRecord rec) {
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
    synchronized (placementLock) {
      for (Placement.SegState s : segs.values()) {
        if (s.record.nodeId().equals(rec.nodeId())
            && !s.record.failureDomain().equals(rec.failureDomain())) {
          throw MasterException.invalid(
              "segment '" + rec.name() + "' of node '" + rec.nodeId() + "' says failure domain '"
                  + rec.failureDomain() + "' but the node's segment '" + s.record.name()
                  + "' says '" + s.record.failureDomain() + "'; a node is in one domain");
        }
      }
    }
    SegmentRecord prev = segments.getAndPutIfAbsent(rec.name(), rec);
    if (prev != null) {
      throw MasterException.exists(
          "segment '" + rec.name() + "' is already mounted (node '" + prev.nodeId() + "', "
              + prev.sizeBytes() + " bytes); unmount it first or pick another name");
    }
    synchronized (placementLock) {
      segs.put(rec.name(), new Placement.SegState(rec, cfg.allocAlignment()));
    }
  }

  /**
   * Unmounts a segment that holds no shards.
   *
   * @throws MasterException NOT_FOUND if not mounted, FAILED_PRECONDITION if it holds shards
   */
  void unmountSegment(String name) {
    Placement.SegState st;
    synchronized (placementLock) {
      st = segs.get(name);
      if (st == null) {
        throw MasterException.notFound("segment '" + name + "' is not mounted");
      }
      int live = st.alloc.liveCount();
      if (live > 0) {
        throw MasterException.precondition(
            "segment '" + name + "' still holds " + live + " live shards ("
                + (st.alloc.capacity() - st.alloc.freeBytes()) + " bytes); remove their objects"
                + " (or wait for read leases to end) before unmounting");
      }
      segs.remove(name);
    }
    boolean ok = false;
    try {
      segments.remove(name);
      ok = true;
    } finally {
      if (!ok) {
        synchronized (placementLock) {
          segs.put(name, st);
        }
      }
    }
  }

  /** A snapshot row of {@link #listSegments()}. */
  record SegmentView(SegmentRecord record, long freeBytes, int liveShards) {}

  /** @return the mounted segments with their free space, in mount order */
  List<SegmentView> listSegments() {
    synchronized (placementLock) {
      List<SegmentView> out = new ArrayList<>(segs.size());
      for (Placement.SegState s : segs.values()) {
        out.add(new SegmentView(s.record, s.alloc.freeBytes(), s.alloc.liveCount()));
      }
      return out;
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
   * @throws MasterException INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION,
   *     RESOURCE_EXHAUSTED
   */
  PutStartResult putStart(
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
    long now = clock.getAsLong();
    ObjectLayout layout;
    synchronized (placementLock) {
      layout = Placement.place(key, g, lossTolerance, h, cfg.maxShardsPerBlock(), segs.values());
    }
    ReplicaInfo stored = LayoutProtos.toProto(layout, ReplicaInfo.ReplicaStatus.UNDEFINED);
    long deadline = now + (putLeaseMillis < 0 ? cfg.putLeaseMillis() : putLeaseMillis);
    ObjectRecord rec =
        new ObjectRecord(
            ObjectRecord.INITIALIZED, size, deadline, layout.shardCount(), stored.toByteArray(), null);
    boolean won = false;
    try {
      won = objects.putIfAbsent(key, rec);
    } finally {
      if (!won) {
        freeAll(layout);
      }
    }
    if (!won) {
      throw MasterException.exists(
          "an object with key '" + key + "' already exists or is being written; Remove (or"
              + " PutRevoke) it first, or use another key");
    }
    pendingPuts.put(key, deadline);
    return new PutStartResult(
        LayoutProtos.withStatus(stored, ReplicaInfo.ReplicaStatus.INITIALIZED, null), deadline);
  }

  /**
   * Completes a put: the object becomes visible, atomically, with its shards' checksums.
   *
   * @param crcs CRC32C per shard in layout order
   * @throws MasterException NOT_FOUND, INVALID_ARGUMENT (wrong checksum count), FAILED_PRECONDITION
   *     (already complete, or the put lease ran out)
   */
  void putEnd(String key, int[] crcs) {
    checkKey(key);
    long now = clock.getAsLong();
    long[] r = objects.invoke(key, new PutEndProcessor(now, crcs));
    switch ((int) r[0]) {
      case PutEndProcessor.OK -> pendingPuts.remove(key);
      case PutEndProcessor.MISSING -> throw MasterException.notFound(
          "no put of key '" + key + "' is open (never started, revoked, or its lease ran out)");
      case PutEndProcessor.COMPLETE -> throw MasterException.precondition(
          "object '" + key + "' is already complete; PutEnd was called twice");
      case PutEndProcessor.EXPIRED -> throw MasterException.precondition(
          "the put lease of '" + key + "' ran out " + (now - r[1]) + " ms ago; the put is revoked"
              + " and its space reclaimed; start the put again");
      case PutEndProcessor.BAD_COUNT -> throw MasterException.invalid(
          "PutEnd of '" + key + "' carries " + crcs.length + " shard checksums; the layout has "
              + r[1] + " shards; send one CRC32C per shard in layout order");
      default -> throw new IllegalStateException("unknown PutEnd outcome " + r[0]);
    }
  }

  /**
   * Undoes an unfinished put and frees its space.
   *
   * @throws MasterException NOT_FOUND, FAILED_PRECONDITION (the object is complete)
   */
  void putRevoke(String key) {
    checkKey(key);
    Object[] r = objects.invoke(key, new RevokeProcessor(Long.MAX_VALUE));
    if (r == null) {
      throw MasterException.notFound("no put of key '" + key + "' is open");
    }
    if (r[0] == null) {
      throw MasterException.precondition(
          "object '" + key + "' is complete; PutRevoke only undoes an unfinished put; use Remove");
    }
    pendingPuts.remove(key);
    freeStored((byte[]) r[0]);
  }

  // ---------------------------------------------------------------- reads

  /** A placement handed to a reader and its read lease's end. */
  record ReadResult(ReplicaInfo replica, long leaseExpiresMillis) {}

  /**
   * @return the placement of a complete object, with a read lease
   * @throws MasterException NOT_FOUND
   */
  ReadResult getReplicaList(String key) {
    checkKey(key);
    long until = lease(key);
    ObjectRecord rec = objects.get(key);
    if (rec == null || rec.status() != ObjectRecord.COMPLETE) {
      throw MasterException.notFound(
          rec == null
              ? "no object with key '" + key + "'"
              : "object '" + key + "' is still being written (no PutEnd yet)");
    }
    return new ReadResult(toReplica(rec), until);
  }

  /** @return per key, its placement or the refusal; all under one read lease end */
  Map<String, Object> batchGet(List<String> keys, long[] leaseOut) {
    checkBatch(keys.size());
    Map<String, Object> out = new LinkedHashMap<>();
    Set<String> valid = new TreeSet<>();
    long until = 0;
    for (String k : keys) {
      try {
        checkKey(k);
        until = Math.max(until, lease(k));
        valid.add(k);
      } catch (MasterException e) {
        out.put(k, e);
      }
    }
    Map<String, ObjectRecord> got = valid.isEmpty() ? Map.of() : objects.getAll(valid);
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
    leaseOut[0] = until;
    return out;
  }

  /**
   * @return placements of all complete objects whose key matches (RE2 syntax, whole key)
   * @throws MasterException INVALID_ARGUMENT for a bad pattern or too many matches
   */
  List<ReplicaInfo> getByRegex(String regex, long[] leaseOut) {
    List<String> keys = matching(regex);
    long until = clock.getAsLong() + cfg.readLeaseMillis();
    for (String k : keys) {
      until = Math.max(until, lease(k));
    }
    Map<String, ObjectRecord> got = keys.isEmpty() ? Map.of() : objects.getAll(new TreeSet<>(keys));
    List<ReplicaInfo> out = new ArrayList<>(got.size());
    for (String k : keys) {
      ObjectRecord rec = got.get(k);
      if (rec != null && rec.status() == ObjectRecord.COMPLETE) {
        out.add(toReplica(rec));
      }
    }
    leaseOut[0] = until;
    return out;
  }

  private List<String> matching(String regex) {
    Pattern p = compile(regex);
    List<String> keys = new ArrayList<>();
    try (QueryCursor<Cache.Entry<String, ObjectRecord>> c =
        objects.query(new ScanQuery<>(new KeyMatches(p.pattern())))) {
      for (Cache.Entry<String, ObjectRecord> e : c) {
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

  private long lease(String key) {
    long until = clock.getAsLong() + cfg.readLeaseMillis();
    return readLeases.merge(key, until, Math::max);
  }

  private static ReplicaInfo toReplica(ObjectRecord rec) {
    return LayoutProtos.withStatus(parse(rec.layout()), ReplicaInfo.ReplicaStatus.COMPLETE, rec.crc32c());
  }

  // ---------------------------------------------------------------- removal

  /**
   * Removes a complete object. Its space is freed now, or when the last read lease on it ends.
   *
   * @return true if freeing waits for a read lease
   * @throws MasterException NOT_FOUND, FAILED_PRECONDITION (a put is still open)
   */
  boolean remove(String key) {
    checkKey(key);
    String id = UUID.randomUUID().toString();
    ReclaimRecord rr;
    try (Transaction tx =
        ignite.transactions().txStart(
            TransactionConcurrency.PESSIMISTIC, TransactionIsolation.REPEATABLE_READ)) {
      ObjectRecord rec = objects.get(key);
      if (rec == null) {
        throw MasterException.notFound("no object with key '" + key + "'");
      }
      if (rec.status() != ObjectRecord.COMPLETE) {
        throw MasterException.precondition(
            "object '" + key + "' is still being written; finish it with PutEnd or undo it with"
                + " PutRevoke");
      }
      objects.remove(key);
      rr = new ReclaimRecord(key, rec.layout());
      reclaim.put(id, rr);
      tx.commit();
    }
    long now = clock.getAsLong();
    Long l = readLeases.get(key);
    long until = Math.max(l == null ? 0 : l, leaseFloor);
    if (until > now) {
      pendingFrees.put(id, until);
      return true;
    }
    reclaim.remove(id);
    freeStored(rr.layout());
    return false;
  }

  /** Outcome of a regex removal. */
  record RemovedKeys(List<String> keys) {}

  /**
   * Removes every complete object whose key matches; objects changing meanwhile are skipped.
   *
   * @throws MasterException INVALID_ARGUMENT for a bad pattern
   */
  RemovedKeys removeByRegex(String regex) {
    List<String> removed = new ArrayList<>();
    for (String k : matching(regex)) {
      try {
        remove(k);
        removed.add(k);
      } catch (MasterException e) {
        if (e.kind() != MasterException.Kind.NOT_FOUND
            && e.kind() != MasterException.Kind.FAILED_PRECONDITION) {
          throw e;
        }
      }
    }
    return new RemovedKeys(removed);
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
    for (Map.Entry<String, Long> e : pendingPuts.entrySet()) {
      if (e.getValue() < now) {
        Object[] r = objects.invoke(e.getKey(), new RevokeProcessor(now));
        pendingPuts.remove(e.getKey(), e.getValue());
        if (r != null && r[0] != null) {
          LOG.info("put of '{}' revoked: its lease ran out", e.getKey());
          freeStored((byte[]) r[0]);
        }
      }
    }
    for (Map.Entry<String, Long> e : pendingFrees.entrySet()) {
      if (e.getValue() < now) {
        ReclaimRecord rr = reclaim.getAndRemove(e.getKey());
        pendingFrees.remove(e.getKey());
        if (rr != null) {
          freeStored(rr.layout());
        }
      }
    }
    readLeases.entrySet().removeIf(e -> e.getValue() < now);
  }

  // ---------------------------------------------------------------- space

  private void freeStored(byte[] layout) {
    List<ShardLayout> shards = shards(layout);
    synchronized (placementLock) {
      for (ShardLayout s : shards) {
        Placement.SegState st = segs.get(s.segment());
        if (st != null) {
          st.alloc.free(s.offset(), s.length());
        }
      }
    }
  }

  private void freeAll(ObjectLayout layout) {
    synchronized (placementLock) {
      for (BlockLayout b : layout.blocks()) {
        for (ShardLayout s : b.shards()) {
          Placement.SegState st = segs.get(s.segment());
          if (st != null) {
            st.alloc.free(s.offset(), s.length());
          }
        }
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
    }
    return out;
  }

  /**
   * Checks that free space in memory matches what the caches say: rebuilds allocators from the
   * caches (which fails on overlapping shards) and compares free bytes per segment. Meant for tests
   * and diagnostics while no call is in flight.
   *
   * @return the problems found, empty when consistent
   */
  List<String> checkConsistency() {
    List<String> problems = new ArrayList<>();
    Map<String, SpaceAllocator> fresh = new HashMap<>();
    for (Cache.Entry<String, SegmentRecord> e : segments.query(new ScanQuery<String, SegmentRecord>())) {
      fresh.put(e.getKey(), new SpaceAllocator(e.getValue().sizeBytes(), cfg.allocAlignment()));
    }
    List<Map.Entry<String, byte[]>> all = new ArrayList<>();
    for (Cache.Entry<String, ObjectRecord> e : objects.query(new ScanQuery<String, ObjectRecord>())) {
      all.add(Map.entry("object " + e.getKey(), e.getValue().layout()));
    }
    for (Cache.Entry<String, ReclaimRecord> e : reclaim.query(new ScanQuery<String, ReclaimRecord>())) {
      all.add(Map.entry("pending free of " + e.getValue().key(), e.getValue().layout()));
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
    synchronized (placementLock) {
      if (!fresh.keySet().equals(segs.keySet())) {
        problems.add("mounted segments in cache " + fresh.keySet() + " != in memory " + segs.keySet());
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

  @Override
  public void close() {
    reaper.shutdownNow();
    try {
      reaper.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- entry processors

  /** Scan filter: keys matching an RE2 pattern in full. Runs on the data nodes. */
  static final class KeyMatches implements IgniteBiPredicate<String, ObjectRecord> {
    private static final long serialVersionUID = 1L;
    private final String regex;
    private transient Pattern pattern;

    KeyMatches(String regex) {
      this.regex = regex;
    }

    @Override
    public boolean apply(String key, ObjectRecord rec) {
      if (pattern == null) {
        pattern = Pattern.compile(regex);
      }
      return rec.status() == ObjectRecord.COMPLETE && pattern.matches(key);
    }
  }

  /**
   * PutEnd on the data node: INITIALIZED to COMPLETE if the lease holds and the checksum count
   * matches. Deterministic (the time is an argument) since it runs on primary and backups.
   */
  static final class PutEndProcessor implements CacheEntryProcessor<String, ObjectRecord, long[]> {
    private static final long serialVersionUID = 1L;
    static final int OK = 0;
    static final int MISSING = 1;
    static final int COMPLETE = 2;
    static final int EXPIRED = 3;
    static final int BAD_COUNT = 4;
    private final long now;
    private final int[] crcs;

    PutEndProcessor(long now, int[] crcs) {
      this.now = now;
      this.crcs = crcs;
    }

    @Override
    public long[] process(MutableEntry<String, ObjectRecord> e, Object... args) {
      ObjectRecord r = e.getValue();
      if (r == null) {
        return new long[] {MISSING, 0};
      }
      if (r.status() == ObjectRecord.COMPLETE) {
        return new long[] {COMPLETE, 0};
      }
      if (r.putDeadlineMillis() < now) {
        return new long[] {EXPIRED, r.putDeadlineMillis()};
      }
      if (crcs.length != r.shardCount()) {
        return new long[] {BAD_COUNT, r.shardCount()};
      }
      e.setValue(r.complete(crcs));
      return new long[] {OK, 0};
    }
  }

  /**
   * Removes an unfinished put, if its put deadline is before {@code now} (Long.MAX_VALUE: in any
   * case). Returns null if there is no record, {@code {null}} if the record stays (complete, or
   * its lease still runs), {@code {layout}} if it was removed.
   */
  static final class RevokeProcessor implements CacheEntryProcessor<String, ObjectRecord, Object[]> {
    private static final long serialVersionUID = 1L;
    private final long now;

    RevokeProcessor(long now) {
      this.now = now;
    }

    @Override
    public Object[] process(MutableEntry<String, ObjectRecord> e, Object... args) {
      ObjectRecord r = e.getValue();
      if (r == null) {
        return null;
      }
      if (r.status() == ObjectRecord.COMPLETE || (now != Long.MAX_VALUE && r.putDeadlineMillis() >= now)) {
        return new Object[] {null};
      }
      e.remove();
      return new Object[] {r.layout()};
    }
  }
}
