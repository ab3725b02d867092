package io.runicquanta.plugin;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.runicquanta.codec.ObjectDecoder;
import io.runicquanta.codec.ObjectEncoder;
import io.runicquanta.codec.Oti;
import io.runicquanta.codec.UndecodableBlockException;
import io.runicquanta.codec.layout.BlockLayout;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import io.runicquanta.codec.raptorq.DecodingPlan;
import io.runicquanta.codec.raptorq.EncodingPlan;
import io.runicquanta.codec.raptorq.SourceBlockDecoder;
import io.runicquanta.codec.raptorq.SourceBlockEncoder;
import io.runicquanta.codec.raptorq.WorkspacePool;
import io.runicquanta.master.LayoutProtos;
import io.runicquanta.master.MasterClient;
import io.runicquanta.master.proto.BatchGetReplicaListRequest;
import io.runicquanta.master.proto.BatchGetReplicaListResponse;
import io.runicquanta.master.proto.BatchPutEndRequest;
import io.runicquanta.master.proto.BatchPutEndResponse;
import io.runicquanta.master.proto.BatchPutRevokeRequest;
import io.runicquanta.master.proto.BatchPutStartRequest;
import io.runicquanta.master.proto.BatchPutStartResponse;
import io.runicquanta.master.proto.BatchRemoveRequest;
import io.runicquanta.master.proto.GetReplicaListByRegexRequest;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.ListSegmentsRequest;
import io.runicquanta.master.proto.ListSegmentsResponse;
import io.runicquanta.master.proto.MasterServiceGrpc;
import io.runicquanta.master.proto.PutEndRequest;
import io.runicquanta.master.proto.PutRevokeRequest;
import io.runicquanta.master.proto.PutStartRequest;
import io.runicquanta.master.proto.Redundancy;
import io.runicquanta.master.proto.RemoveRequest;
import io.runicquanta.master.proto.ReplicaInfo;
import io.runicquanta.master.proto.ReportCorruptRequest;
import io.runicquanta.master.proto.BufHandle;
import io.runicquanta.master.proto.ListDegradedRequest;
import io.runicquanta.master.proto.RepairEndRequest;
import io.runicquanta.master.proto.RepairRevokeRequest;
import io.runicquanta.master.proto.RepairStartRequest;
import io.runicquanta.master.proto.RepairStartResponse;
import io.runicquanta.transfer.Segment;
import io.runicquanta.transfer.SegmentDescriptor;
import io.runicquanta.transfer.TransferEngine;
import io.runicquanta.transfer.TransferRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.util.VectorSchemaRootAppender;
import org.apache.ignite.Ignite;
import org.apache.ignite.cluster.ClusterNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link RqStore} of one node: the stash and reveal data path.
 *
 * <h2>Objects are parts plus a manifest</h2>
 *
 * The master places an object at PutStart and must know its size then, but a stash streams
 * (an {@link InputStream}, an Arrow writer) of unknown length with memory bounded by block size x
 * concurrency. So the stream is cut into blocks of {@code blockSize} bytes (the last shorter; the
 * block size is rounded down to a multiple of T so each block is exactly one RFC 6330 source block,
 * Z = 1, K = ceil(size / T), section 4.4.1.2), and each block is stored as its own master object, a
 * <em>part</em>, under the internal key {@code .rq/<stashId>/<index>} ({@code stashId} random per
 * stash). Parts are PutStart'ed with a put lease of {@link
 * RqPluginConfiguration#stashLeaseMillis()} and not completed while the stream runs. At the end
 * the <em>manifest</em> ({@link Manifest}: size, content type, block size, T, m, stash id, part
 * sizes) is PutStart'ed under the user key (a lost race is ALREADY_EXISTS here, before anything
 * becomes visible), its shards written, then every part is completed with one BatchPutEnd, and the
 * manifest's PutEnd comes last: the object becomes visible at that one step. Any failure revokes
 * (or removes, once completed) every part and the manifest: nothing half-visible, space given back.
 * Before moving any data, GetReplicaList checks that the key is free so a duplicate fails early.
 * User keys starting with {@code .rq/} are refused; listings hide them.
 *
 * <h2>Writing a block</h2>
 *
 * The block's bytes sit in a buffer of K x T bytes (zero padding after the data, RFC 6330 section
 * 4.4.1.2). The source block is encoded once ({@link SourceBlockEncoder} with an {@link
 * EncodingPlan} cached per K, section 5.3.3.4; {@link ObjectEncoder} when N &gt; 1), then every
 * shard the master placed is built in a registered staging segment: the 32-byte header of {@link
 * ShardLayout} then its ESIs (source symbols are ESIs 0..K-1 and copies of the data, repair
 * symbols ESIs K and up, section 5.3.2). The CRC32C of each shard's symbols runs over a direct
 * view of the staging memory. Each shard then moves with one {@link TransferRequest#write} into the
 * target segment, whose descriptor is the remote key the master holds for it. Up to {@code
 * concurrency} blocks are in flight per stash: while one is encoded and transferred on the node's
 * worker pool, the caller's thread reads the next; a stash waits for a free slot, so memory is
 * bounded by concurrency x (block + staging + encoder workspace), all paid by the node's
 * allocator.
 *
 * <h2>The master off the critical path of a stash</h2>
 *
 * Measured with per-phase timers ({@code -Drq.trace=true} logs them per stash) and per-thread CPU
 * time: when each worker did PutStart, then encode, then transfer, a part's PutStart (a durable,
 * group-committed Ignite transaction on the master) took about as long as encoding the block
 * (8 MiB, K = 128, about 200 ms each on the loaded test machine), and the workers sat idle in it;
 * the encoding itself cost the same CPU as the codec alone. So the master's latency is now
 * hidden, without changing what becomes visible when:
 * <ul>
 *   <li><b>PutStart ahead.</b> Once an object is known to span more than one block (a size hint,
 *       or a first block filled to the block size), the caller's thread reserves the following
 *       parts ahead of their data: one BatchPutStart (on a small master-call pool, never on the
 *       workers) for up to 4 x slots parts of the block size (exact sizes from a size hint), refilled
 *       when fewer than 2 x slots remain. A block then usually finds its layout already there. A
 *       last block shorter than reserved gives its reservation back (PutRevoke) and starts again
 *       with its real size; reservations never used are revoked in one BatchPutRevoke before the
 *       manifest. Reserved parts are INITIALIZED objects like any other: invisible, revoked on
 *       failure (abort waits for every reservation in flight first, so none escapes), freed by
 *       their put lease if this node dies. A small object of unknown length reserves nothing.
 *   <li><b>Encode while the master places.</b> The intermediate symbols (the expensive part of the
 *       encode) depend only on the data and K, not on the placement: a worker without a
 *       reservation issues the part's PutStart on the master-call pool and builds the encoder
 *       meanwhile, then writes the shards the layout names. The plan for each K is built once and
 *       shared ({@link #plan}, concurrent first callers wait for one build).
 * </ul>
 * Memory is unchanged (reservations are segment space on the targets, not local memory), and the
 * manifest's PutEnd is still the one step that makes the object visible.
 *
 * <h2>Reading a block</h2>
 *
 * Shards on nodes that are not in the Ignite topology are skipped. The others are ranked: shards
 * holding source symbols first (all K source symbols mean no decoding, only a copy or not even
 * that), the local node's shards first within each class, then by first ESI. Shards are taken in
 * that order until they hold K symbols, or K + 2 when repair symbols are among them (the decoding
 * failure odds fall about 256-fold per extra symbol, section 5.4.1 and DESIGN.md). Each shard is
 * read as two requests (its header, then its symbols appended to one contiguous area), checked
 * (header fields against the layout, CRC32C of the symbols against the checksum the master
 * recorded at PutEnd); a shard failing any check, or whose read fails, is an erasure and never
 * data, and more shards are read. A shard that was read but failed its checks is reported to the
 * master (ReportCorrupt, off the reader's thread), which marks it so self-healing rebuilds it. If the valid symbols are source ESIs 0..K-1 in order, the staging
 * memory is the block; otherwise {@link ObjectDecoder} recovers it from whatever arrived (section
 * 5.4). Too few symbols: DATA_LOSS naming the object, the block and the symbols found. Reveal keeps
 * {@code concurrency} blocks in flight ahead of the reader, each in its own slot.
 *
 * <h2>Memory</h2>
 *
 * Every operation first reserves its share of the node's {@link
 * RqPluginConfiguration#maxMemory()} ({@link MemoryBudget}): blocks in flight x {@value
 * #STASH_BLOCK_FACTOR} block sizes for a stash (data, encoder workspace of about (L + 1 + K) x T,
 * staging of n x s x T), x {@value #REVEAL_BLOCK_FACTOR} for a reveal (staging, output, decoder
 * scratch); operations beyond the budget wait (up to {@value #BUDGET_WAIT_MILLIS} ms, then
 * RESOURCE_EXHAUSTED). A stash of unknown length starts its block buffers at 256 KiB and doubles
 * them up to the block size, so small objects stay small. All of it is allocated from the node's
 * allocator and freed when the operation ends (a reveal: when its stream is closed).
 *
 * <h2>Nodes that left</h2>
 *
 * The master does not yet know which nodes are alive and may place shards on a segment whose node
 * left (the segment stays mounted while it holds live shards). A stash writes only to live nodes'
 * segments; a block whose written shards still hold K + h symbols is kept (the object is DEGRADED
 * in {@link #stat} from the start), otherwise the stash fails with UNAVAILABLE and is revoked.
 *
 * <p>Thread safe: every operation has its own slots; shared state is the segment directory, the
 * plan cache (concurrent maps) and the memory budget.
 */
final class GridStore implements RqStore, AutoCloseable {

  /** Repair symbols (ESI at least K) among a block's shards: what its encoder will be asked for. */
  static int repairCount(int k, List<ShardLayout> shards) {
    long n = 0;
    for (ShardLayout sh : shards) {
      long first = Math.max(sh.firstEsi(), k);
      long end = (long) sh.firstEsi() + sh.esiCount();
      n += Math.max(0, end - first);
    }
    return (int) Math.min(Integer.MAX_VALUE, n);
  }
  private static final Logger LOG = LoggerFactory.getLogger(GridStore.class);
  /** Extra symbols read when repair symbols are needed. */
  static final int READ_MARGIN = 2;
  /** Decode margin h the master uses by default (for stat's tolerance arithmetic). */
  static final int DECODE_MARGIN = 3;
  private static final int LAYOUT_BATCH = 256;
  /** -Drq.trace=true logs per-part timings (at WARN, so simple loggers show them). */
  static final boolean TRACE = Boolean.getBoolean("rq.trace");
  private static final AtomicLong NAMES = new AtomicLong();

  private final RqPlugin plugin;
  private final Ignite ignite;
  private final RqPluginConfiguration cfg;
  private final TransferEngine engine;
  final MasterClient master;
  private final BufferAllocator work;
  private final ExecutorService workers;
  /**
   * Runs a stash's PutStart calls while its workers compute; unbounded threads, but at most one
   * call per block in flight, so at most concurrency per stash.
   */
  private final ExecutorService masterCalls;
  private final String localNodeId;
  private final Map<String, SegInfo> segments = new ConcurrentHashMap<>();
  private final Map<Integer, EncodingPlan> plans = new ConcurrentHashMap<>();
  /**
   * Shards that failed their checks when last read here ({@link #badKey}: the checksum is part of
   * the name, so a later shard of another object in the same space is not taken for it).
   */
  private final Set<String> badShards = ConcurrentHashMap.newKeySet();

  /** @return segment@offset#first ESI#CRC32C: names one shard of one object */
  static String badKey(ShardLayout s) {
    return s.segment() + "@" + s.offset() + "#" + s.firstEsi() + "#" + Integer.toHexString(s.crc32c());
  }
  /** The node's maxMemory, reserved by operations before they allocate. */
  final MemoryBudget budget;
  /** Estimated off-heap bytes per block in flight, in blocks: data + encoder + staging. */
  static final int STASH_BLOCK_FACTOR = 5;
  /** Estimated off-heap bytes per block in flight, in blocks: staging + output + decoder. */
  static final int REVEAL_BLOCK_FACTOR = 4;
  /** How long an operation waits for memory before RESOURCE_EXHAUSTED. */
  static final long BUDGET_WAIT_MILLIS = 120_000;
  /** Stash phases timed per stash (summed over its blocks; logged with -Drq.trace=true). */
  static final int PH_SLOT_WAIT = 0;
  static final int PH_PUT_START = 1;
  static final int PH_PUT_START_WAIT = 2;
  static final int PH_ENCODER = 3;
  static final int PH_SYMBOLS = 4;
  static final int PH_CRC = 5;
  static final int PH_TRANSFER = 6;
  static final int PH_COMMIT = 7;
  static final String[] PHASES = {"caller waits for a slot", "PutStart (master)",
      "worker waits for PutStart", "encoder (intermediate symbols)", "symbols to staging", "CRC32C",
      "transfer", "manifest + PutEnds"};

  private record SegInfo(String nodeId, SegmentDescriptor descriptor) {}

  GridStore(RqPlugin plugin) {
    this.plugin = plugin;
    this.ignite = plugin.ignite();
    this.cfg = plugin.config();
    this.engine = plugin.engine();
    this.master = plugin.master();
    this.work = plugin.allocator().newChildAllocator("rq-work", 0, plugin.allocator().getLimit());
    this.workers = plugin.workers();
    this.localNodeId = ignite.cluster().localNode().id().toString();
    this.budget = new MemoryBudget(cfg.maxMemory());
    String name = ignite.name();
    this.masterCalls = Executors.newCachedThreadPool(r -> {
      Thread th = new Thread(r, "rq-master-call-" + name + "-" + NAMES.incrementAndGet());
      th.setDaemon(true);
      return th;
    });
  }

  @Override
  public void close() {
    masterCalls.shutdownNow();
    if (work.getAllocatedMemory() != 0) {
      LOG.warn("work allocator holds {} bytes at stop", work.getAllocatedMemory());
    }
    try {
      work.close();
    } catch (RuntimeException e) {
      LOG.warn("closing the work allocator", e);
    }
  }

  // ---------------------------------------------------------------- master calls and errors

  <T> T call(String what, Function<MasterServiceGrpc.MasterServiceBlockingStub, T> rpc) {
    try {
      return master.call(rpc);
    } catch (StatusRuntimeException e) {
      throw fromStatus(e.getStatus(), what, e);
    } catch (IllegalStateException e) {
      throw new RqException(RqException.Code.UNAVAILABLE, what + ": " + e.getMessage(), e);
    }
  }

  static RqException fromStatus(Status s, String what, Throwable cause) {
    RqException.Code c =
        switch (s.getCode()) {
          case INVALID_ARGUMENT, OUT_OF_RANGE -> RqException.Code.INVALID_ARGUMENT;
          case NOT_FOUND -> RqException.Code.NOT_FOUND;
          case ALREADY_EXISTS -> RqException.Code.ALREADY_EXISTS;
          case FAILED_PRECONDITION -> RqException.Code.FAILED_PRECONDITION;
          case RESOURCE_EXHAUSTED -> RqException.Code.RESOURCE_EXHAUSTED;
          case UNAVAILABLE, ABORTED -> RqException.Code.UNAVAILABLE;
          case DEADLINE_EXCEEDED -> RqException.Code.DEADLINE_EXCEEDED;
          case DATA_LOSS -> RqException.Code.DATA_LOSS;
          default -> RqException.Code.INTERNAL;
        };
    return new RqException(c, what + ": " + s.getDescription(), cause);
  }

  static void checkKey(String key) {
    if (key == null) {
      throw new RqException(RqException.Code.INVALID_ARGUMENT, "key is null", null);
    }
    int n = key.getBytes(StandardCharsets.UTF_8).length;
    if (n == 0 || n > ObjectLayout.MAX_KEY_BYTES) {
      throw new RqException(RqException.Code.INVALID_ARGUMENT,
          "key is " + n + " UTF-8 bytes, expected 1.." + ObjectLayout.MAX_KEY_BYTES, null);
    }
    if (key.startsWith(Manifest.INTERNAL_PREFIX)) {
      throw new RqException(RqException.Code.INVALID_ARGUMENT,
          "key '" + key + "' starts with '" + Manifest.INTERNAL_PREFIX
              + "', which is reserved for the parts of stashed objects", null);
    }
  }

  // ---------------------------------------------------------------- segments and topology

  private SegInfo segment(String name) {
    SegInfo s = segments.get(name);
    if (s == null) {
      refreshSegments();
      s = segments.get(name);
    }
    return s;
  }

  ListSegmentsResponse refreshSegments() {
    ListSegmentsResponse r =
        call("list segments", st -> st.listSegments(ListSegmentsRequest.getDefaultInstance()));
    for (ListSegmentsResponse.Item it : r.getSegmentsList()) {
      var sg = it.getSegment();
      if (!segments.containsKey(sg.getName())) {
        SegmentDescriptor d;
        try {
          d = SegmentDescriptor.fromBytes(sg.getEndpoint().getRemoteKey().toByteArray());
        } catch (IllegalArgumentException e) {
          LOG.warn("segment {} has no usable descriptor: {}", sg.getName(), e.getMessage());
          continue;
        }
        segments.put(sg.getName(), new SegInfo(sg.getNodeId(), d));
      }
    }
    return r;
  }

  Set<String> aliveNodes() {
    Set<String> ids = new HashSet<>();
    for (ClusterNode n : ignite.cluster().forServers().nodes()) {
      ids.add(n.id().toString());
    }
    return ids;
  }

  private boolean alive(String segmentName, Set<String> aliveNodes) {
    SegInfo s = segment(segmentName);
    return s != null && aliveNodes.contains(s.nodeId());
  }

  // ---------------------------------------------------------------- slots

  /**
   * Per in-flight block: the data buffer, a registered staging segment, a decode buffer and the
   * codec's workspaces ({@link WorkspacePool}). A slot serves one block after another, so keeping
   * these between blocks costs no more memory than the largest block needed, and spares each block
   * the page faults of freshly mapped memory (the codec's workspaces are about (L + K) x T bytes a
   * block; see WorkspacePool's class comment for what those faults cost).
   */
  final class Slot implements AutoCloseable {
    ArrowBuf data;
    Segment staging;
    ArrowBuf aux;
    WorkspacePool pool;

    /** The codec's workspace memory for this slot, accounted to the node's work allocator. */
    WorkspacePool pool() {
      if (pool == null) {
        pool = new WorkspacePool(work);
      }
      return pool;
    }

    /** Grows the data buffer to {@code bytes}, keeping its first {@code keep} bytes. */
    ArrowBuf growData(long bytes, long keep) {
      if (data != null && data.capacity() >= bytes) {
        return data;
      }
      ArrowBuf n = work.buffer(bytes);
      if (data != null) {
        if (keep > 0) {
          n.setBytes(0, data, 0, keep);
        }
        data.close();
      }
      data = n;
      return data;
    }

    ArrowBuf data(long bytes) {
      if (data == null || data.capacity() < bytes) {
        if (data != null) {
          data.close();
          data = null;
        }
        data = work.buffer(bytes);
      }
      return data;
    }

    Segment staging(long bytes) {
      if (staging == null || staging.length() < bytes) {
        if (staging != null) {
          staging.close();
          staging = null;
        }
        staging = engine.allocateSegment("stg-" + NAMES.incrementAndGet(), Math.max(bytes, 4096));
      }
      return staging;
    }

    ArrowBuf aux(long bytes) {
      if (aux == null || aux.capacity() < bytes) {
        if (aux != null) {
          aux.close();
          aux = null;
        }
        aux = work.buffer(Math.max(1, bytes));
      }
      return aux;
    }

    @Override
    public void close() {
      if (data != null) {
        data.close();
        data = null;
      }
      if (staging != null) {
        staging.close();
        staging = null;
      }
      if (aux != null) {
        aux.close();
        aux = null;
      }
      if (pool != null) {
        try {
          pool.close();
        } catch (IllegalStateException e) {
          // an encoder of this slot is still open: its memory stays accounted (and reported at stop)
          LOG.warn("closing a slot's workspace pool", e);
        }
        pool = null;
      }
    }
  }

  // ---------------------------------------------------------------- writing one object

  /**
   * The encoding plan for K, built once and shared: concurrent first callers for the same K wait
   * for one build instead of each building it.
   */
  EncodingPlan plan(int k) {
    EncodingPlan p = plans.get(k);
    if (p == null) {
      if (plans.size() > 64) {
        plans.clear();
      }
      p = plans.computeIfAbsent(k, EncodingPlan::forSourceSymbols);
    }
    return p;
  }

  /** Effective block size: a multiple of T, at least T, at most K'max x T. */
  static long effectiveBlockSize(long blockSize, int t) {
    long k = Math.max(1, Math.min(blockSize / t, BlockLayout.MAX_K));
    return k * t;
  }

  /**
   * PutStart of one object with a put lease.
   */
  ObjectLayout putStart(String key, long size, int m, long blockSize, int t) {
    PutStartRequest req = putStartRequest(key, size, m, blockSize, t);
    ReplicaInfo r = call("PutStart '" + key + "'", s -> s.putStart(req)).getReplica();
    return LayoutProtos.fromProto(r);
  }

  PutStartRequest putStartRequest(String key, long size, int m, long blockSize, int t) {
    return
        PutStartRequest.newBuilder()
            .setKey(key)
            .setSize(size)
            .setRedundancy(
                Redundancy.newBuilder()
                    .setLossTolerance(m)
                    .setBlockSize(blockSize)
                    .setSymbolSize(t))
            .setPutLeaseMs((int) Math.min(cfg.stashLeaseMillis(), 86_400_000L))
            .build();
  }

  /**
   * PutStart of a part. A part key holds a random stash id, so only this stash ever asks for it:
   * ALREADY_EXISTS can only mean that an earlier attempt of this very call took effect on a master
   * that then failed, and that {@link MasterClient} retried it on the next master. That reservation
   * is ours and unwritten: give it back (PutRevoke) and ask once more, instead of failing the stash
   * with an error about a key the user never named.
   */
  ObjectLayout putStartPart(String partKey, long size, int m, long blockSize, int t) {
    try {
      return putStart(partKey, size, m, blockSize, t);
    } catch (RqException e) {
      if (e.code() != RqException.Code.ALREADY_EXISTS) {
        throw e;
      }
      LOG.info("PutStart of part '{}' was retried after a master failover and found its own earlier"
          + " reservation; revoking it and starting again", partKey);
      call("PutRevoke '" + partKey + "'",
          st -> st.putRevoke(PutRevokeRequest.newBuilder().setKey(partKey).build()));
      return putStart(partKey, size, m, blockSize, t);
    }
  }

  /**
   * Encodes the object whose bytes are at {@code data[0..size)} (capacity at least ceil(size/T)*T,
   * the padding is zeroed here) and writes every shard of its layout. Returns the shard checksums
   * in layout order; adds the bytes written to {@code stored}.
   */
  int[] writeObject(ObjectLayout layout, Slot slot, ArrowBuf data, AtomicLong stored) {
    return writeObject(layout, slot, data, stored, null, null, null);
  }

  /**
   * A shard whose write failed although its node is still in the topology: it stays in the
   * placement (the object is kept DEGRADED when its block still has K + h symbols), so once the
   * object is complete it is reported to the master like a shard failing its checks (ReportCorrupt),
   * and self-healing rebuilds it. Without the report nothing would show the loss until a reader
   * tripped on it.
   */
  record FailedWrite(String key, int block, ShardLayout shard, String why) {}

  /**
   * As {@link #writeObject(ObjectLayout, Slot, ArrowBuf, AtomicLong)}, with an encoder the caller
   * built for {@code data} before the layout was known ({@code pre}, used when the layout is one
   * source block with its K and T, else ignored; the caller closes it) and per-phase nanoseconds
   * added to {@code phases} (indices {@code PH_*}; may be null).
   */
  int[] writeObject(ObjectLayout layout, Slot slot, ArrowBuf data, AtomicLong stored,
      SourceBlockEncoder pre, AtomicLongArray phases, Collection<FailedWrite> failedWrites) {
    Oti oti = Oti.decode(layout.oti());
    int t = oti.symbolSize();
    long padded = oti.totalSourceSymbols() * t;
    boolean usePre = pre != null && layout.blocks().size() == 1 && oti.subBlockCount() == 1
        && pre.symbolSize() == t && pre.plan().sourceSymbols() == layout.blocks().get(0).k()
        && oti.sourceBlockOffset(0) == 0;
    if (padded > layout.size() && !usePre) {
      data.setZero(layout.size(), padded - layout.size());
    }
    int[] crcs = new int[layout.shardCount()];
    int ci = 0;
    Set<String> alive = aliveNodes();
    ObjectEncoder whole = null;
    try {
      if (oti.subBlockCount() != 1) {
        whole = ObjectEncoder.create(work, oti, data, 0, Runnable::run);
      }
      for (BlockLayout b : layout.blocks()) {
        long need = 0;
        for (ShardLayout s : b.shards()) {
          need += s.length();
        }
        Segment stg = slot.staging(need);
        ArrowBuf buf = stg.buffer();
        List<TransferRequest> reqs = new ArrayList<>(b.shards().size());
        List<ShardLayout> reqShards = new ArrayList<>(b.shards().size());
        List<String> skipped = new ArrayList<>();
        SourceBlockEncoder enc = null;
        long te0 = System.nanoTime();
        long crcNs = 0;
        long tEnc = te0;
        try {
          if (usePre) {
            enc = pre;
          } else if (whole == null) {
            enc = SourceBlockEncoder.create(slot.pool(), plan(b.k()), t, data, oti.sourceBlockOffset(b.id()),
                repairCount(b.k(), b.shards()));
          }
          tEnc = System.nanoTime();
          if (phases != null) {
            phases.addAndGet(PH_ENCODER, tEnc - te0);
          }
          long off = 0;
          for (ShardLayout s : b.shards()) {
            long sym = off + ShardLayout.HEADER_BYTES;
            if (enc != null) {
              for (int i = 0; i < s.esiCount(); i++) {
                enc.encodeSymbolTo(s.firstEsi() + i, buf.memoryAddress() + sym + (long) i * t);
              }
            } else {
              whole.encodeSymbols(b.id(), s.esis(), buf, sym);
            }
            long symBytes = (long) s.esiCount() * t;
            if (s.length() != ShardLayout.HEADER_BYTES + symBytes) {
              throw new RqException(RqException.Code.INTERNAL, "shard of '" + layout.key()
                  + "' is " + s.length() + " bytes, expected " + (ShardLayout.HEADER_BYTES + symBytes), null);
            }
            long tc = System.nanoTime();
            int crc = ShardIo.crc32c(buf, sym, symBytes);
            crcNs += System.nanoTime() - tc;
            ShardIo.writeHeader(buf, off, b.id(), s.firstEsi(), s.esiCount(), t, crc);
            crcs[ci++] = crc;
            SegInfo target = segment(s.segment());
            if (target != null && alive.contains(target.nodeId())) {
              reqs.add(TransferRequest.write(stg, off, target.descriptor(), s.offset(), s.length()));
              reqShards.add(s);
            } else {
              skipped.add(s.segment());
            }
            off += s.length();
          }
        } finally {
          if (enc != null && enc != pre) {
            enc.close();
          }
        }
        long te1 = System.nanoTime();
        if (phases != null) {
          phases.addAndGet(PH_CRC, crcNs);
          phases.addAndGet(PH_SYMBOLS, te1 - tEnc - crcNs);
        }
        try {
          Throwable failed = null;
          int landed = 0;
          if (!reqs.isEmpty()) {
            var tb = engine.submit(reqs);
            try {
              tb.future().get();
            } catch (ExecutionException e) {
              failed = e.getCause();
            }
            for (int i = 0; i < reqs.size(); i++) {
              var rf = tb.requests().get(i);
              if (!rf.isCompletedExceptionally()) {
                landed += reqShards.get(i).esiCount();
              } else if (failedWrites != null) {
                String why;
                try {
                  rf.join();
                  why = "write failed";
                } catch (RuntimeException e) {
                  Throwable c = e.getCause() != null ? e.getCause() : e;
                  why = "write failed: " + c.getMessage();
                }
                failedWrites.add(new FailedWrite(layout.key(), b.id(), reqShards.get(i), why));
              }
            }
          }
          // Shards placed on nodes that are gone (or whose write failed) are lost from the
          // start; the object is kept if every block still has K + h symbols (it is then
          // DEGRADED until repaired), else the stash fails.
          if ((failed != null || !skipped.isEmpty()) && landed < b.k() + DECODE_MARGIN) {
            throw new RqException(RqException.Code.UNAVAILABLE, "writing the shards of '"
                + layout.key() + "' failed: only " + landed + " symbols landed, K + h = "
                + (b.k() + DECODE_MARGIN) + " needed" + (skipped.isEmpty() ? ""
                : " (segments on nodes that left: " + skipped + ")")
                + (failed == null ? "" : ": " + failed.getMessage()), failed);
          }
          if (failed != null || !skipped.isEmpty()) {
            LOG.warn("'{}' block {} stored degraded:{}{}", layout.key(), b.id(),
                skipped.isEmpty() ? "" : " segments " + skipped + " are on nodes that left;",
                failed == null ? "" : " a write failed: " + failed.getMessage());
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new RqException(RqException.Code.UNAVAILABLE, "interrupted while writing '"
              + layout.key() + "'", e);
        }
        stored.addAndGet(need);
        if (phases != null) {
          phases.addAndGet(PH_TRANSFER, System.nanoTime() - te1);
        }
        if (TRACE) {
          LOG.warn("'{}' block {}: K {}, encode+crc {} ms, transfer {} ms", layout.key(), b.id(),
              b.k(), (te1 - te0) / 1_000_000, (System.nanoTime() - te1) / 1_000_000);
        }
      }
    } finally {
      if (whole != null) {
        whole.close();
      }
    }
    return crcs;
  }

  // ---------------------------------------------------------------- reading one object

  /** Bytes of a revealed block: {@code len} bytes of {@code buf} at {@code off}. */
  record Chunk(ArrowBuf buf, long off, long len) {}

  /**
   * Reads and recovers the only block of a one-block object (parts and manifests are).
   *
   * @param what the user-facing name for messages (object key and part)
   */
  Chunk readObject(ObjectLayout layout, Slot slot, String what) {
    Oti oti = Oti.decode(layout.oti());
    if (layout.blocks().size() != 1) {
      throw new RqException(RqException.Code.INTERNAL, what + ": expected one source block, the "
          + "layout has " + layout.blocks().size(), null);
    }
    BlockLayout b = layout.blocks().get(0);
    int t = oti.symbolSize();
    int k = b.k();
    Set<String> alive = aliveNodes();
    String localSeg = RqPlugin.segmentName(localNodeId);
    List<ShardLayout> candidates = new ArrayList<>();
    int lost = 0;
    for (ShardLayout s : b.shards()) {
      if (alive(s.segment(), alive)) {
        candidates.add(s);
      } else {
        lost++;
      }
    }
    candidates.sort(
        Comparator.<ShardLayout>comparingInt(s -> s.firstEsi() < k ? 0 : 1)
            .thenComparingInt(s -> s.segment().equals(localSeg) ? 0 : 1)
            .thenComparingInt(ShardLayout::firstEsi));
    long all = 0;
    for (ShardLayout s : b.shards()) {
      all += s.length();
    }
    int headerArea = (int) (((long) b.shards().size() * ShardLayout.HEADER_BYTES + 63) & ~63L);
    Segment stg = slot.staging(headerArea + all);
    ArrowBuf buf = stg.buffer();
    // shards in staging order (positions of their symbols), and which are valid
    List<ShardLayout> read = new ArrayList<>();
    List<Long> symPos = new ArrayList<>();
    List<Boolean> valid = new ArrayList<>();
    long symEnd = headerArea;
    int next = 0;
    int validSymbols = 0;
    int corrupt = 0;
    boolean repair = false;
    UndecodableBlockException undecodable = null;
    int atLeast = 0; // after a failed decode: read beyond what we had
    while (true) {
      int target = Math.max(atLeast, repair ? k + READ_MARGIN : k);
      // pick more shards
      List<ShardLayout> batch = new ArrayList<>();
      int planned = validSymbols;
      while (planned < target && next < candidates.size()) {
        ShardLayout s = candidates.get(next++);
        batch.add(s);
        planned += s.esiCount();
        if (s.firstEsi() + s.esiCount() > k) {
          repair = true;
          target = Math.max(target, k + READ_MARGIN);
        }
      }
      if (!batch.isEmpty()) {
        if (read.isEmpty()) {
          batch.sort(Comparator.comparingInt(ShardLayout::firstEsi));
        }
        List<TransferRequest> reqs = new ArrayList<>();
        int first = read.size();
        for (ShardLayout s : batch) {
          int i = read.size();
          SegmentDescriptor d = segment(s.segment()).descriptor();
          reqs.add(TransferRequest.read(stg, (long) i * ShardLayout.HEADER_BYTES, d, s.offset(),
              ShardLayout.HEADER_BYTES));
          long n = s.length() - ShardLayout.HEADER_BYTES;
          reqs.add(TransferRequest.read(stg, symEnd, d, s.offset() + ShardLayout.HEADER_BYTES, n));
          read.add(s);
          symPos.add(symEnd);
          valid.add(false);
          symEnd += n;
        }
        var tb = engine.submit(reqs);
        try {
          tb.future().get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new RqException(RqException.Code.UNAVAILABLE, what + ": interrupted", e);
        } catch (ExecutionException e) {
          // some reads failed; their shards count as erasures below
        }
        for (int i = first; i < read.size(); i++) {
          ShardLayout s = read.get(i);
          int r = 2 * (i - first);
          boolean ok = !tb.requests().get(r).isCompletedExceptionally()
              && !tb.requests().get(r + 1).isCompletedExceptionally();
          String why = ok ? ShardIo.checkHeader(buf, (long) i * ShardLayout.HEADER_BYTES, b.id(), s, t)
              : "read failed";
          if (why == null && ShardIo.crc32c(buf, symPos.get(i), s.length() - ShardLayout.HEADER_BYTES)
              != s.crc32c()) {
            why = "CRC32C of the symbols does not match";
          }
          if (why == null) {
            valid.set(i, true);
            validSymbols += s.esiCount();
            badShards.remove(badKey(s));
          } else {
            corrupt++;
            boolean news = badShards.add(badKey(s));
            LOG.warn("{}: shard {}@{} (ESIs {}+{}) is an erasure: {}", what, s.segment(),
                s.offset(), s.firstEsi(), s.esiCount(), why);
            if (news && ok) {
              // its node answered with bad bytes: the shard itself is damaged, so the master
              // marks it and self-healing rebuilds it (a failed read may be the node's death,
              // which the master learns from discovery)
              reportCorrupt(layout.key(), b.id(), s, why);
            }
          }
        }
      }
      // fast path: valid source ESIs 0..K-1 in order at the start of the symbol area
      int e = 0;
      boolean inOrder = true;
      for (int i = 0; i < read.size() && e < k; i++) {
        if (!valid.get(i) || read.get(i).firstEsi() != e || symPos.get(i) != headerArea + (long) e * t) {
          inOrder = false;
          break;
        }
        e += read.get(i).esiCount();
      }
      if (inOrder && e >= k) {
        return new Chunk(buf, headerArea, b.size());
      }
      boolean more = next < candidates.size();
      int want = Math.max(atLeast, repair ? k + READ_MARGIN : k);
      if (validSymbols >= k && (validSymbols >= want || !more)) {
        // decode from the valid symbols
        int[] esis = new int[validSymbols];
        // the valid shards' symbols, contiguous and in the order of esis: in place in the
        // staging segment when no read shard failed, else compacted into the aux buffer
        boolean holes = valid.contains(false);
        ArrowBuf recv = holes ? slot.aux((long) validSymbols * t + (long) k * t) : buf;
        long recvOff = holes ? 0 : headerArea;
        long p = 0;
        int j = 0;
        for (int i = 0; i < read.size(); i++) {
          if (!valid.get(i)) {
            continue;
          }
          ShardLayout s = read.get(i);
          long n = (long) s.esiCount() * t;
          if (holes) {
            recv.setBytes(p, buf, symPos.get(i), n);
          }
          for (int q = 0; q < s.esiCount(); q++) {
            esis[j++] = s.firstEsi() + q;
          }
          p += n;
        }
        try {
          if (oti.subBlockCount() == 1) {
            // RFC 6330 section 5.4 on whole symbols: replay the decoding plan straight from the
            // received symbols into the output (K x T bytes; the block is its first size bytes)
            ArrowBuf out = holes ? recv : slot.aux((long) k * t);
            long outOff = holes ? (long) validSymbols * t : 0;
            DecodingPlan dp;
            try {
              dp = DecodingPlan.build(k, esis);
            } catch (UndecodableBlockException ex) {
              throw ex.withBlock(b.id());
            }
            SourceBlockDecoder.decode(slot.pool(), dp, t, recv, recvOff, out, outOff);
            return new Chunk(out, outOff, b.size());
          }
          long outOff = recvOff + (long) validSymbols * t;
          ArrowBuf out = holes ? recv : slot.aux(b.size());
          long o = holes ? outOff : 0;
          new ObjectDecoder(work, oti, Runnable::run)
              .decodeSourceBlock(b.id(), esis, recv, recvOff, out.slice(o, b.size()), 0);
          return new Chunk(out, o, b.size());
        } catch (UndecodableBlockException ex) {
          undecodable = ex;
          if (!more) {
            throw dataLoss(what, b, k, validSymbols, lost, corrupt, ex);
          }
          repair = true;
          atLeast = validSymbols + 1; // read at least one more shard
          continue;
        }
      }
      if (!more) {
        throw dataLoss(what, b, k, validSymbols, lost, corrupt, undecodable);
      }
    }
  }

  /**
   * Tells the master, off the caller's thread, that a shard failed its checks on a live node
   * (ReportCorrupt); failures are only logged: the next reader that finds it reports it again.
   */
  private void reportCorrupt(String key, int block, ShardLayout s, String why) {
    Runnable r = () -> {
      try {
        boolean marked = call("report corrupt shard of '" + key + "'", st -> st.reportCorrupt(
            ReportCorruptRequest.newBuilder().setKey(key).setBlockId(block)
                .setSegmentName(s.segment()).setOffset(s.offset()).setReason(why).build()))
            .getNewlyMarked();
        if (marked) {
          LOG.info("'{}' block {}: shard {}@{} reported corrupt to the master", key, block,
              s.segment(), s.offset());
        }
      } catch (RuntimeException e) {
        badShards.remove(badKey(s)); // so that the next read reports it
        LOG.info("'{}' block {}: reporting shard {}@{} corrupt failed: {}", key, block,
            s.segment(), s.offset(), e.getMessage());
      }
    };
    try {
      workers.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the node is stopping
    }
  }

  /** @return "segment@offset" of the shards the master has marked corrupt */
  static Set<String> corruptShards(ReplicaInfo ri) {
    Set<String> out = new HashSet<>();
    for (var b : ri.getBlocksList()) {
      for (BufHandle h : b.getShardsList()) {
        if (h.getCorrupt()) {
          out.add(h.getSegmentName() + "@" + h.getOffset());
        }
      }
    }
    return out;
  }

  private static RqException dataLoss(String what, BlockLayout b, int k, int valid, int lost,
      int corrupt, Throwable cause) {
    return new RqException(RqException.Code.DATA_LOSS, what + ": block " + b.id() + " cannot be "
        + "recovered: found " + valid + " valid symbols, K = " + k + " needed (" + lost
        + " shards on lost nodes, " + corrupt + " shards failed their checks, of "
        + b.shards().size() + ")", cause);
  }

  /** Reads a whole one-block object into a byte array (manifests). */
  byte[] readSmall(ObjectLayout layout, String what) {
    try (Slot slot = new Slot()) {
      Chunk c = readObject(layout, slot, what);
      byte[] out = new byte[(int) c.len()];
      c.buf().getBytes(c.off(), out, 0, out.length);
      return out;
    }
  }

  // ---------------------------------------------------------------- stash

  /** A part's PutStart issued ahead of its data, for a part of {@code size} bytes. */
  record Reservation(long size, CompletableFuture<ObjectLayout> layout) {}

  /** Options resolved against the node's defaults. */
  record Resolved(int m, long blockSize, int t) {}

  Resolved resolve(StashOptions o) {
    if (o == null) {
      o = StashOptions.defaults();
    }
    int m = o.lossTolerance() < 0 ? cfg.lossTolerance() : o.lossTolerance();
    int t = o.symbolSize() == 0 ? cfg.symbolSize() : o.symbolSize();
    long bs = o.blockSize() == 0 ? cfg.blockSize() : o.blockSize();
    if (m > 16) {
      throw new RqException(RqException.Code.INVALID_ARGUMENT,
          "loss tolerance = " + m + ", expected 0..16", null);
    }
    if (t < 1 || t > 65535) {
      throw new RqException(RqException.Code.INVALID_ARGUMENT,
          "symbol size = " + t + ", expected 1..65535", null);
    }
    if (bs < 1) {
      throw new RqException(RqException.Code.INVALID_ARGUMENT,
          "block size = " + bs + ", expected at least 1", null);
    }
    return new Resolved(m, effectiveBlockSize(bs, t), t);
  }

  /**
   * A stash in progress: a channel the source is written into, cut into parts stored
   * concurrently. {@link #finish} commits, {@link #abort} takes everything back.
   */
  final class StashWriter implements WritableByteChannel {
    final String key;
    final String contentType;
    final Resolved r;
    final StashOptions options;
    final UUID stashId = UUID.randomUUID();
    final long t0 = System.nanoTime();
    final ArrayBlockingQueue<Slot> free;
    final List<Slot> allSlots = new ArrayList<>();
    final List<CompletableFuture<Void>> inflight = new ArrayList<>();
    final List<Long> partSizes = new ArrayList<>();
    final Map<Integer, int[]> crcs = new ConcurrentHashMap<>();
    /** Shards whose write failed on a live node, reported once the object is complete. */
    final java.util.Queue<FailedWrite> failedWrites = new java.util.concurrent.ConcurrentLinkedQueue<>();
    final Set<String> started = ConcurrentHashMap.newKeySet();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    final AtomicLong stored = new AtomicLong();
    final AtomicLong done = new AtomicLong();
    final AtomicLongArray phases = new AtomicLongArray(PHASES.length);
    /** PutStarts issued ahead of the data, by part index; the caller's thread only. */
    final Map<Integer, Reservation> reserved = new HashMap<>();
    /** Parts below this index have had a PutStart issued ahead (or never will). */
    int reservedUpTo;
    final long sizeHint;
    Slot cur;
    long fill;
    long total;
    boolean finished;

    final long firstCapacity;
    MemoryBudget.Lease lease;

    StashWriter(String key, String contentType, StashOptions options, long sizeHint) {
      checkKey(key);
      this.key = key;
      this.contentType = contentType;
      this.options = options == null ? StashOptions.defaults() : options;
      this.r = resolve(this.options);
      this.sizeHint = sizeHint;
      int t = r.t();
      long perSlot = sizeHint >= 0
          ? Math.min(r.blockSize(), roundUp(Math.max(1, sizeHint), t))
          : Math.min(r.blockSize(), roundUp(256 << 10, t));
      this.firstCapacity = perSlot;
      int c = sizeHint >= 0
          ? (int) Math.max(1, Math.min(cfg.concurrency(), (sizeHint + r.blockSize() - 1) / r.blockSize()))
          : cfg.concurrency();
      this.free = new ArrayBlockingQueue<>(c);
      for (int i = 0; i < c; i++) {
        Slot s = new Slot();
        allSlots.add(s);
        free.add(s);
      }
      // fail early on a taken key, before moving data
      try {
        call("check key", st -> st.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build()));
        throw new RqException(RqException.Code.ALREADY_EXISTS,
            "an object with key '" + key + "' exists; remove it first or use another key", null);
      } catch (RqException e) {
        if (e.code() != RqException.Code.NOT_FOUND) {
          throw e;
        }
      }
      long blockBytes = sizeHint >= 0 ? perSlot : r.blockSize();
      lease = budget.reserve((long) c * STASH_BLOCK_FACTOR * blockBytes, "stash '" + key + "'",
          BUDGET_WAIT_MILLIS);
    }

    /** Room in the current block buffer, growing it (doubling, up to the block size) when full. */
    private long room() {
      long cap = cur.data.capacity();
      if (fill == cap && cap < r.blockSize()) {
        cur.growData(Math.min(r.blockSize(), roundUp(cap * 2, r.t())), fill);
        cap = cur.data.capacity();
      }
      return Math.min(cap, r.blockSize()) - fill;
    }

    private void checkFailure() throws IOException {
      Throwable f = failure.get();
      if (f != null) {
        throw rethrow(f);
      }
    }

    private Slot acquire() throws IOException {
      long w0 = System.nanoTime();
      while (true) {
        checkFailure();
        try {
          Slot s = free.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
          if (s != null) {
            phases.addAndGet(PH_SLOT_WAIT, System.nanoTime() - w0);
            return s;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted while stashing '" + key + "'");
        }
      }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n0 = src.remaining();
      while (src.hasRemaining()) {
        ensureBlock();
        int n = (int) Math.min(src.remaining(), room());
        ByteBuffer part = src.slice(src.position(), n);
        cur.data.setBytes(fill, part);
        src.position(src.position() + n);
        advance(n);
      }
      return n0;
    }

    /** Reads from an input stream until its end. */
    void readFrom(InputStream in) throws IOException {
      byte[] chunk = new byte[(int) Math.min(r.blockSize(), 256 << 10)];
      while (true) {
        ensureBlock();
        int want = (int) Math.min(chunk.length, room());
        int n = in.read(chunk, 0, want);
        if (n < 0) {
          return;
        }
        cur.data.setBytes(fill, chunk, 0, n);
        advance(n);
      }
    }

    /** Reads from a channel until its end, straight into the block buffer. */
    void readFrom(ReadableByteChannel in) throws IOException {
      while (true) {
        ensureBlock();
        int want = (int) Math.min(Integer.MAX_VALUE, room());
        ByteBuffer bb = cur.data.nioBuffer(fill, want);
        int n = in.read(bb);
        if (n < 0) {
          return;
        }
        advance(n);
      }
    }

    private void ensureBlock() throws IOException {
      if (cur == null) {
        cur = acquire();
        cur.growData(firstCapacity, 0);
        fill = 0;
      }
    }

    private void advance(int n) {
      fill += n;
      total += n;
      if (fill == r.blockSize()) {
        dispatch();
      }
    }

    /**
     * Issues PutStart ahead for the parts after {@code next - 1}: when fewer than {@code 2 x slots}
     * are reserved ahead, one BatchPutStart for up to {@code 4 x slots} parts, each of the block
     * size (a known size hint gives exact sizes and stops at its last part).
     */
    private void reserveAhead(int next) {
      int slots = allSlots.size();
      reservedUpTo = Math.max(reservedUpTo, next);
      if (reservedUpTo - next >= 2 * slots) {
        return;
      }
      int end = next + 4 * slots;
      if (sizeHint >= 0) {
        end = (int) Math.min(end, (sizeHint + r.blockSize() - 1) / r.blockSize());
      }
      if (end <= reservedUpTo) {
        return;
      }
      List<String> keys = new ArrayList<>();
      List<Long> sizes = new ArrayList<>();
      List<CompletableFuture<ObjectLayout>> fs = new ArrayList<>();
      BatchPutStartRequest.Builder b = BatchPutStartRequest.newBuilder();
      for (int i = reservedUpTo; i < end; i++) {
        long size = sizeHint >= 0 ? Math.min(r.blockSize(), sizeHint - i * r.blockSize())
            : r.blockSize();
        String pk = Manifest.partKey(stashId, i);
        CompletableFuture<ObjectLayout> f = new CompletableFuture<>();
        reserved.put(i, new Reservation(size, f));
        keys.add(pk);
        sizes.add(size);
        fs.add(f);
        b.addItems(putStartRequest(pk, size, r.m(), r.blockSize(), r.t()));
      }
      reservedUpTo = end;
      BatchPutStartRequest req = b.build();
      try {
        masterCalls.execute(() -> {
          long p0 = System.nanoTime();
          try {
            BatchPutStartResponse resp = call("PutStart the parts of '" + key + "'",
                st -> st.batchPutStart(req));
            for (int i = 0; i < fs.size(); i++) {
              BatchPutStartResponse.Item it = resp.getItems(i);
              int code = it.getStatus().getCode();
              try {
                if (code == 0) {
                  started.add(keys.get(i));
                  fs.get(i).complete(LayoutProtos.fromProto(it.getReplica()));
                } else if (code == Status.Code.ALREADY_EXISTS.value()) {
                  // our own reservation from an attempt retried across a master failover
                  ObjectLayout l = putStartPart(keys.get(i), sizes.get(i), r.m(), r.blockSize(), r.t());
                  started.add(keys.get(i));
                  fs.get(i).complete(l);
                } else {
                  fs.get(i).completeExceptionally(fromStatus(Status.fromCodeValue(code)
                      .withDescription(it.getStatus().getMessage()), "PutStart '" + keys.get(i) + "'", null));
                }
              } catch (RuntimeException e) {
                fs.get(i).completeExceptionally(e);
              }
            }
          } catch (RuntimeException e) {
            for (CompletableFuture<ObjectLayout> f : fs) {
              f.completeExceptionally(e);
            }
          } finally {
            phases.addAndGet(PH_PUT_START, System.nanoTime() - p0);
          }
        });
      } catch (RuntimeException e) { // rejected: the node is stopping
        for (CompletableFuture<ObjectLayout> f : fs) {
          f.completeExceptionally(new RqException(RqException.Code.UNAVAILABLE,
              "stash '" + key + "': the node is stopping", e));
        }
      }
    }

    /** Waits for every PutStart issued ahead and not used; revokes those that took effect. */
    private void releaseReservations() {
      List<String> keys = new ArrayList<>();
      for (Map.Entry<Integer, Reservation> e : reserved.entrySet()) {
        try {
          e.getValue().layout().join();
          keys.add(Manifest.partKey(stashId, e.getKey()));
        } catch (RuntimeException ignored) {
          // never reserved
        }
      }
      reserved.clear();
      if (keys.isEmpty()) {
        return;
      }
      try {
        call("revoke the unused parts of '" + key + "'", st -> st.batchPutRevoke(
            BatchPutRevokeRequest.newBuilder().addAllKeys(keys).build()));
        keys.forEach(started::remove);
      } catch (RqException e) {
        LOG.warn("stash '{}': revoking {} parts reserved ahead and not used failed ({}); their put"
            + " lease frees them", key, keys.size(), e.getMessage());
      }
    }

    private void dispatch() {
      Slot s = cur;
      long size = fill;
      s.growData(roundUp(size, r.t()), size); // the encoder reads K x T bytes
      int index = partSizes.size();
      partSizes.add(size);
      cur = null;
      fill = 0;
      // reserve ahead once the object is known to span more than this block
      if (sizeHint >= 0 || size == r.blockSize()) {
        reserveAhead(index + 1);
      }
      Reservation res = reserved.remove(index);
      inflight.add(CompletableFuture.runAsync(() -> {
        CompletableFuture<ObjectLayout> put = null;
        SourceBlockEncoder enc = null;
        try {
          if (failure.get() != null) {
            return;
          }
          String pk = Manifest.partKey(stashId, index);
          long t0 = System.nanoTime();
          if (res != null && res.size() == size) {
            put = res.layout();
          } else {
            put = CompletableFuture.supplyAsync(() -> {
              long p0 = System.nanoTime();
              if (res != null) {
                // reserved ahead with another size (the stream ended in this block): give it back
                try {
                  res.layout().join();
                  call("PutRevoke '" + pk + "'",
                      st -> st.putRevoke(PutRevokeRequest.newBuilder().setKey(pk).build()));
                  started.remove(pk);
                } catch (CompletionException e) {
                  // the reservation failed: nothing to give back
                } catch (RqException e) {
                  if (e.code() != RqException.Code.NOT_FOUND) {
                    throw e;
                  }
                  // its put lease ran out: the master took it back already
                  started.remove(pk);
                }
              }
              ObjectLayout l = putStartPart(pk, size, r.m(), r.blockSize(), r.t());
              started.add(pk);
              phases.addAndGet(PH_PUT_START, System.nanoTime() - p0);
              return l;
            }, masterCalls);
          }
          // the intermediate symbols depend on the data and K only: compute them while the
          // master places the part
          int t = r.t();
          long k = (size + t - 1) / t;
          if (k * t > size) {
            s.data.setZero(size, k * t - size);
          }
          long e0 = System.nanoTime();
          // the layout (hence the number of repair symbols) comes with the PutStart answer; until
          // then assume as many repair symbols as source symbols plus margin (n shards on n - m
          // units give about K * m / (n - m) + h), which leans towards replaying the plan, the
          // route that costs the same whatever the number of repair symbols
          enc = SourceBlockEncoder.create(s.pool(), plan((int) k), t, s.data, 0, (int) k + 6);
          phases.addAndGet(PH_ENCODER, System.nanoTime() - e0);
          long w0 = System.nanoTime();
          ObjectLayout l = join(put);
          long t1 = System.nanoTime();
          phases.addAndGet(PH_PUT_START_WAIT, t1 - w0);
          crcs.put(index, writeObject(l, s, s.data, stored, enc, phases, failedWrites));
          if (TRACE) {
            LOG.warn("stash '{}' part {}: PutStart+encoder {} ms, symbols+write {} ms", key, index,
                (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
          }
          long d = done.addAndGet(size);
          if (options.progress() != null) {
            options.progress().update(d, -1);
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        } finally {
          if (enc != null) {
            enc.close();
          }
          if (put != null) {
            // a PutStart still running must land in 'started' before abort() reads it
            try {
              put.join();
            } catch (RuntimeException e) {
              failure.compareAndSet(null, e instanceof CompletionException && e.getCause() != null
                  ? e.getCause() : e);
            }
          }
          free.add(s);
        }
      }, workers));
    }

    private ObjectLayout join(CompletableFuture<ObjectLayout> f) {
      try {
        return f.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw e;
      }
    }

    @Override
    public boolean isOpen() {
      return !finished;
    }

    /** Does not commit (ArrowStreamWriter closes its channel); see {@link #finish}. */
    @Override
    public void close() {}

    StashResult finish() throws IOException {
      if (cur != null && fill > 0) {
        dispatch();
      }
      awaitInflight();
      checkFailure();
      long c0 = System.nanoTime();
      releaseReservations();
      Manifest mf = new Manifest(contentType, total, r.blockSize(), r.t(), r.m(), stashId,
          partSizes.stream().mapToLong(Long::longValue).toArray());
      byte[] mb = mf.toBytes();
      int mt = r.t() >= 1024 ? 1024 : r.t();
      while ((mb.length + mt - 1) / mt > 50_000) {
        mt = Math.min(65535, mt * 2);
      }
      long mBlock = ((mb.length + mt - 1) / mt) * (long) mt;
      ObjectLayout ml = putStart(key, mb.length, r.m(), mBlock, mt);
      started.add(key);
      Slot s = allSlots.get(0);
      ArrowBuf d = s.data(mBlock);
      d.setBytes(0, mb);
      int[] mcrc = writeObject(ml, s, d, stored, null, null, failedWrites);
      if (!partSizes.isEmpty()) {
        BatchPutEndRequest.Builder b = BatchPutEndRequest.newBuilder();
        for (int i = 0; i < partSizes.size(); i++) {
          PutEndRequest.Builder pe = PutEndRequest.newBuilder().setKey(mf.partKey(i));
          for (int c : crcs.get(i)) {
            pe.addShardCrc32C(c);
          }
          b.addItems(pe);
        }
        BatchPutEndResponse resp = call("complete the parts of '" + key + "'", st -> st.batchPutEnd(b.build()));
        for (BatchPutEndResponse.Item it : resp.getItemsList()) {
          if (it.getStatus().getCode() != 0) {
            throw fromStatus(Status.fromCodeValue(it.getStatus().getCode()),
                "completing part " + it.getKey() + " of '" + key + "' failed (its put lease may have "
                    + "expired: stashLeaseMillis = " + cfg.stashLeaseMillis() + ")", null);
          }
        }
      }
      PutEndRequest.Builder pe = PutEndRequest.newBuilder().setKey(key);
      for (int c : mcrc) {
        pe.addShardCrc32C(c);
      }
      call("complete '" + key + "'", st -> st.putEnd(pe.build()));
      finished = true;
      for (FailedWrite f : failedWrites) {
        reportCorrupt(f.key(), f.block(), f.shard(), f.why());
      }
      phases.addAndGet(PH_COMMIT, System.nanoTime() - c0);
      if (TRACE) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < PHASES.length; i++) {
          sb.append(i == 0 ? "" : ", ").append(PHASES[i]).append(' ')
              .append(phases.get(i) / 1_000_000).append(" ms");
        }
        LOG.warn("stash '{}': {} bytes, {} parts in {} ms; summed over parts: {}", key, total,
            partSizes.size(), (System.nanoTime() - t0) / 1_000_000, sb);
      }
      if (options.progress() != null) {
        options.progress().update(total, total);
      }
      return new StashResult(key, total, partSizes.size(), stored.get(), r.m(), System.nanoTime() - t0);
    }

    private void awaitInflight() {
      for (CompletableFuture<Void> f : inflight) {
        try {
          f.join();
        } catch (CompletionException e) {
          failure.compareAndSet(null, e.getCause());
        }
      }
    }

    /** Revokes or removes everything this stash created; frees its slots. */
    void abort() {
      awaitInflight();
      for (Reservation res : reserved.values()) {
        try {
          res.layout().join(); // its key is in 'started' once it took effect
        } catch (RuntimeException ignored) {
          // never reserved
        }
      }
      reserved.clear();
      List<String> keys = new ArrayList<>(started);
      if (!keys.isEmpty()) {
        try {
          master.call(st -> st.batchPutRevoke(BatchPutRevokeRequest.newBuilder().addAllKeys(keys).build()));
        } catch (RuntimeException e) {
          LOG.warn("revoking the parts of failed stash '{}': {}", key, e.toString());
        }
        // those already completed (a failure after BatchPutEnd) are removed instead
        try {
          master.call(st -> st.batchRemove(BatchRemoveRequest.newBuilder()
              .addAllKeys(keys.stream().filter(k -> !k.equals(key)).toList()).build()));
        } catch (RuntimeException e) {
          LOG.warn("removing the parts of failed stash '{}': {}", key, e.toString());
        }
      }
    }

    void release() {
      for (Slot s : allSlots) {
        s.close();
      }
      if (lease != null) {
        lease.close();
      }
    }
  }

  private static IOException rethrow(Throwable f) {
    if (f instanceof RqException e) {
      throw new RqException(e.code(), stripCode(e), e);
    }
    if (f instanceof IOException e) {
      return new IOException(e.getMessage(), e);
    }
    if (f instanceof org.apache.arrow.memory.OutOfMemoryException e) {
      throw new RqException(RqException.Code.RESOURCE_EXHAUSTED, "the node's memory cap for stash "
          + "and reveal work is reached (maxMemory): " + e.getMessage(), e);
    }
    if (f instanceof RuntimeException e) {
      throw new RqException(RqException.Code.INTERNAL, e.toString(), e);
    }
    throw new RqException(RqException.Code.INTERNAL, f.toString(), f);
  }

  private static String stripCode(RqException e) {
    String m = e.getMessage();
    String p = e.code() + ": ";
    return m.startsWith(p) ? m.substring(p.length()) : m;
  }

  interface Source {
    void writeTo(StashWriter w) throws IOException;
  }

  static long roundUp(long v, long m) {
    return (v + m - 1) / m * m;
  }

  StashResult stash(String key, String contentType, StashOptions options, Source src)
      throws IOException {
    return stash(key, contentType, options, -1, src);
  }

  StashResult stash(String key, String contentType, StashOptions options, long sizeHint,
      Source src) throws IOException {
    StashWriter w = new StashWriter(key, contentType, options, sizeHint);
    boolean ok = false;
    try {
      src.writeTo(w);
      StashResult r = w.finish();
      ok = true;
      return r;
    } catch (org.apache.arrow.memory.OutOfMemoryException e) {
      throw new RqException(RqException.Code.RESOURCE_EXHAUSTED, "stash '" + key + "': the node's"
          + " memory cap (maxMemory) is reached: " + e.getMessage(), e);
    } finally {
      if (!ok) {
        w.abort();
      }
      w.release();
    }
  }

  @Override
  public StashResult stash(String key, InputStream in, StashOptions options) throws IOException {
    return stash(key, Manifest.BYTES, options, w -> w.readFrom(in));
  }

  @Override
  public StashResult stash(String key, byte[] bytes, StashOptions options) {
    try {
      return stash(key, Manifest.BYTES, options, bytes.length,
          w -> w.write(ByteBuffer.wrap(bytes)));
    } catch (IOException e) {
      throw new RqException(RqException.Code.INTERNAL, e.getMessage(), e);
    }
  }

  @Override
  public StashResult stash(String key, ReadableByteChannel in, StashOptions options)
      throws IOException {
    return stash(key, Manifest.BYTES, options, w -> w.readFrom(in));
  }

  @Override
  public StashResult stash(String key, Path file, StashOptions options) throws IOException {
    String type = detect(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      return stash(key, type, options, size, w -> w.readFrom(ch));
    }
  }

  static String detect(Path file) throws IOException {
    byte[] head = new byte[8];
    int n;
    try (InputStream in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, 8);
    }
    if (n >= 6 && new String(head, 0, 6, StandardCharsets.US_ASCII).equals("ARROW1")) {
      return Manifest.ARROW_FILE;
    }
    if (n == 8 && (head[0] & 0xFF) == 0xFF && (head[1] & 0xFF) == 0xFF && (head[2] & 0xFF) == 0xFF
        && (head[3] & 0xFF) == 0xFF) {
      return Manifest.ARROW_STREAM;
    }
    return Manifest.BYTES;
  }

  @Override
  public StashResult stash(String key, VectorSchemaRoot root, StashOptions options)
      throws IOException {
    StashResult r = stash(key, Manifest.ARROW_STREAM, options, w -> {
      try (ArrowStreamWriter aw = new ArrowStreamWriter(root, null, w)) {
        aw.start();
        aw.writeBatch();
        aw.end();
      }
    });
    if (options != null && options.releaseSource()) {
      root.clear();
    }
    return r;
  }

  @Override
  public StashResult stash(String key, ArrowReader reader, StashOptions options)
      throws IOException {
    boolean release = options != null && options.releaseSource();
    StashResult r = stash(key, Manifest.ARROW_STREAM, options, w -> {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      try (ArrowStreamWriter aw = new ArrowStreamWriter(root, reader, w)) {
        aw.start();
        while (reader.loadNextBatch()) {
          aw.writeBatch();
        }
        aw.end();
      }
    });
    if (release) {
      reader.getVectorSchemaRoot().clear();
    }
    return r;
  }

  // ---------------------------------------------------------------- reveal

  ObjectLayout manifestLayout(String key) {
    return LayoutProtos.fromProto(
        call("reveal '" + key + "'",
            st -> st.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build()))
            .getReplica());
  }

  Manifest manifest(String key) {
    return Manifest.parse(readSmall(manifestLayout(key), "object '" + key + "' (manifest)"), key);
  }

  @Override
  public boolean exists(String key) {
    checkKey(key);
    try {
      manifestLayout(key);
      return true;
    } catch (RqException e) {
      if (e.code() == RqException.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  @Override
  public byte[] revealBytes(String key) {
    checkKey(key);
    Manifest mf = manifest(key);
    if (mf.size() > Integer.MAX_VALUE - 16) {
      throw new RqException(RqException.Code.FAILED_PRECONDITION, "object '" + key + "' is "
          + mf.size() + " bytes, too large for a byte array; use reveal", null);
    }
    byte[] out = new byte[(int) mf.size()];
    try (RevealStream in = new RevealStream(key, mf)) {
      int n = in.readNBytes(out, 0, out.length);
      if (n != out.length || in.read() != -1) {
        throw new RqException(RqException.Code.DATA_LOSS, "object '" + key + "': revealed " + n
            + " bytes, its manifest says " + mf.size(), null);
      }
    } catch (IOException e) {
      throw rethrowUnchecked(e);
    }
    return out;
  }

  private static RqException rethrowUnchecked(IOException e) {
    return new RqException(RqException.Code.INTERNAL, e.getMessage(), e);
  }

  @Override
  public InputStream reveal(String key) {
    checkKey(key);
    Manifest mf = manifest(key);
    return new RevealStream(key, mf);
  }

  /** Streams an object's bytes, {@code concurrency} parts ahead. */
  final class RevealStream extends InputStream implements ReadableByteChannel {
    private final String key;
    private final Manifest mf;
    private final ArrayDeque<Slot> free = new ArrayDeque<>();
    private final List<Slot> allSlots = new ArrayList<>();
    private final ArrayDeque<CompletableFuture<Chunk>> ahead = new ArrayDeque<>();
    private final ArrayDeque<Slot> aheadSlots = new ArrayDeque<>();
    private final Map<Integer, ObjectLayout> layouts = new HashMap<>();
    private int scheduled;
    private Chunk cur;
    private Slot curSlot;
    private long pos;
    private boolean closed;

    private final MemoryBudget.Lease lease;

    RevealStream(String key, Manifest mf) {
      this.key = key;
      this.mf = mf;
      int c = (int) Math.max(1, Math.min(cfg.concurrency(), mf.parts()));
      long maxPart = 0;
      for (long p : mf.partSizes()) {
        maxPart = Math.max(maxPart, p);
      }
      this.lease = budget.reserve((long) c * REVEAL_BLOCK_FACTOR * Math.max(maxPart, 1),
          "reveal '" + key + "'", BUDGET_WAIT_MILLIS);
      for (int i = 0; i < c; i++) {
        Slot s = new Slot();
        allSlots.add(s);
        free.add(s);
      }
    }

    private ObjectLayout layout(int i) {
      ObjectLayout l = layouts.remove(i);
      if (l != null) {
        return l;
      }
      int end = Math.min(mf.parts(), i + LAYOUT_BATCH);
      BatchGetReplicaListRequest.Builder b = BatchGetReplicaListRequest.newBuilder();
      for (int j = i; j < end; j++) {
        b.addKeys(mf.partKey(j));
      }
      BatchGetReplicaListResponse r = call("reveal '" + key + "'", st -> st.batchGetReplicaList(b.build()));
      for (int j = 0; j < r.getItemsCount(); j++) {
        var it = r.getItems(j);
        if (it.getStatus().getCode() != 0) {
          throw new RqException(RqException.Code.DATA_LOSS, "object '" + key + "': part " + (i + j)
              + " (" + it.getKey() + ") is missing: " + it.getStatus().getMessage()
              + " (was the object removed while being read?)", null);
        }
        layouts.put(i + j, LayoutProtos.fromProto(it.getReplica()));
      }
      return layouts.remove(i);
    }

    private void schedule() {
      while (scheduled < mf.parts() && !free.isEmpty()) {
        int i = scheduled++;
        ObjectLayout l = layout(i);
        Slot s = free.poll();
        String what = "object '" + key + "' part " + i;
        aheadSlots.add(s);
        ahead.add(CompletableFuture.supplyAsync(() -> readObject(l, s, what), workers));
      }
    }

    private boolean nextChunk() throws IOException {
      if (curSlot != null) {
        free.add(curSlot);
        curSlot = null;
        cur = null;
      }
      schedule();
      CompletableFuture<Chunk> f = ahead.poll();
      if (f == null) {
        return false;
      }
      curSlot = aheadSlots.poll();
      try {
        cur = f.join();
      } catch (CompletionException e) {
        throw rethrow(e.getCause());
      }
      pos = 0;
      return true;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (closed) {
        throw new IOException("reveal stream of '" + key + "' is closed");
      }
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      while (cur == null || pos == cur.len()) {
        if (!nextChunk()) {
          return -1;
        }
      }
      int n = (int) Math.min(len, cur.len() - pos);
      cur.buf().getBytes(cur.off() + pos, b, off, n);
      pos += n;
      return n;
    }

    /** Channel read: copies straight from the decoded off-heap block into {@code dst}. */
    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (closed) {
        throw new java.nio.channels.ClosedChannelException();
      }
      if (!dst.hasRemaining()) {
        return 0;
      }
      while (cur == null || pos == cur.len()) {
        if (!nextChunk()) {
          return -1;
        }
      }
      int n = (int) Math.min(dst.remaining(), cur.len() - pos);
      ByteBuffer src = cur.buf().nioBuffer(cur.off() + pos, n);
      dst.put(src);
      pos += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return !closed;
    }

    /** Copies the rest of the object to a channel without a heap copy; returns the bytes copied. */
    long transferTo(WritableByteChannel out) throws IOException {
      long total = 0;
      while (true) {
        while (cur == null || pos == cur.len()) {
          if (!nextChunk()) {
            return total;
          }
        }
        while (pos < cur.len()) {
          int n = (int) Math.min(cur.len() - pos, 1 << 30);
          ByteBuffer bb = cur.buf().nioBuffer(cur.off() + pos, n);
          while (bb.hasRemaining()) {
            pos += out.write(bb);
          }
          total += n;
        }
      }
    }

    @Override
    public long transferTo(java.io.OutputStream out) throws IOException {
      return transferTo(Channels.newChannel(out));
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      for (CompletableFuture<Chunk> f : ahead) {
        try {
          f.join();
        } catch (RuntimeException e) {
          // its error does not matter any more
        }
      }
      ahead.clear();
      for (Slot s : allSlots) {
        s.close();
      }
      lease.close();
    }
  }

  @Override
  public ReadableByteChannel revealChannel(String key) {
    checkKey(key);
    return new RevealStream(key, manifest(key));
  }

  @Override
  public VectorSchemaRoot revealTable(String key, BufferAllocator allocator) throws IOException {
    try (ArrowReader r = revealReader(key, allocator)) {
      VectorSchemaRoot src = r.getVectorSchemaRoot();
      // the first batch's buffers move to the result (no copy); later batches are appended
      VectorSchemaRoot out = VectorSchemaRoot.create(src.getSchema(), allocator);
      boolean ok = false;
      try {
        if (r.loadNextBatch()) {
          for (int i = 0; i < src.getFieldVectors().size(); i++) {
            src.getVector(i).makeTransferPair(out.getVector(i)).transfer();
          }
          out.setRowCount(src.getRowCount());
          while (r.loadNextBatch()) {
            VectorSchemaRootAppender.append(false, out, src);
          }
        } else {
          out.allocateNew();
          out.setRowCount(0);
        }
        ok = true;
        return out;
      } finally {
        if (!ok) {
          out.close();
        }
      }
    }
  }

  @Override
  public ArrowReader revealReader(String key, BufferAllocator allocator) throws IOException {
    checkKey(key);
    Manifest mf = manifest(key);
    if (mf.contentType().equals(Manifest.BYTES)) {
      throw new RqException(RqException.Code.FAILED_PRECONDITION,
          "object '" + key + "' holds bytes, not Arrow data; use reveal(key)", null);
    }
    RevealStream in = new RevealStream(key, mf);
    if (mf.contentType().equals(Manifest.ARROW_FILE)) {
      // an Arrow IPC file is "ARROW1" + 2 bytes of padding, then the stream format
      ByteBuffer skip = ByteBuffer.allocate(8);
      while (skip.hasRemaining() && in.read(skip) >= 0) {
        // fill
      }
      if (skip.hasRemaining()) {
        in.close();
        throw new RqException(RqException.Code.DATA_LOSS, "object '" + key + "' is too short for an"
            + " Arrow IPC file", null);
      }
    }
    return new ArrowStreamReader((ReadableByteChannel) in, allocator);
  }

  // ---------------------------------------------------------------- remove, list, stat, status

  @Override
  public boolean remove(String key) {
    checkKey(key);
    ObjectLayout ml;
    try {
      ml = manifestLayout(key);
    } catch (RqException e) {
      if (e.code() == RqException.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
    Manifest mf = null;
    try {
      mf = Manifest.parse(readSmall(ml, "object '" + key + "' (manifest)"), key);
    } catch (RqException e) {
      LOG.warn("remove '{}': its manifest cannot be read ({}); its parts stay until a repair scan",
          key, e.getMessage());
    }
    try {
      call("remove '" + key + "'", st -> st.remove(RemoveRequest.newBuilder().setKey(key).build()));
    } catch (RqException e) {
      if (e.code() == RqException.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
    if (mf != null && mf.parts() > 0) {
      for (int i = 0; i < mf.parts(); i += 1000) {
        BatchRemoveRequest.Builder b = BatchRemoveRequest.newBuilder();
        for (int j = i; j < Math.min(mf.parts(), i + 1000); j++) {
          b.addKeys(mf.partKey(j));
        }
        call("remove the parts of '" + key + "'", st -> st.batchRemove(b.build()));
      }
    }
    return true;
  }

  /** Regex of every key that is not internal. */
  static final String USER_KEYS = "(?s)(?:[^.].*|\\.[^r].*|\\.r[^q].*|\\.rq[^/].*|\\.|\\.r|\\.rq)";

  @Override
  public List<ObjectStat> list(String pattern) {
    String regex = pattern == null || pattern.isEmpty() ? USER_KEYS : pattern;
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new RqException(RqException.Code.INVALID_ARGUMENT,
          "pattern '" + pattern + "' is not a valid RE2 expression: " + e.getMessage(), e);
    }
    var resp = call("list '" + regex + "'", st -> st.getReplicaListByRegex(
        GetReplicaListByRegexRequest.newBuilder().setKeyRegex(regex).build()));
    List<ObjectStat> out = new ArrayList<>();
    for (ReplicaInfo ri : resp.getReplicasList()) {
      if (ri.getKey().startsWith(Manifest.INTERNAL_PREFIX)) {
        continue;
      }
      try {
        out.add(stat(ri));
      } catch (RqException e) {
        if (e.code() != RqException.Code.NOT_FOUND) {
          throw e;
        }
      }
    }
    out.sort(Comparator.comparing(ObjectStat::key));
    return out;
  }

  @Override
  public ObjectStat stat(String key) {
    checkKey(key);
    return stat(call("stat '" + key + "'",
        st -> st.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build())).getReplica());
  }

  private ObjectStat stat(ReplicaInfo mri) {
    ObjectLayout ml = LayoutProtos.fromProto(mri);
    String key = ml.key();
    Set<String> alive = aliveNodes();
    int[] acc = new int[3]; // shards, lost shards, min tolerance
    acc[2] = Integer.MAX_VALUE;
    account(ml, alive, acc, false, corruptShards(mri));
    int blocks = 0;
    long size = ml.size();
    String type = "unknown";
    int m = ml.lossTolerance();
    Manifest statManifest = null;
    try {
      Manifest mf = Manifest.parse(readSmall(ml, "object '" + key + "' (manifest)"), key);
      statManifest = mf;
      type = mf.contentType();
      size = mf.size();
      blocks = mf.parts();
      for (int i = 0; i < mf.parts(); i += LAYOUT_BATCH) {
        BatchGetReplicaListRequest.Builder b = BatchGetReplicaListRequest.newBuilder();
        for (int j = i; j < Math.min(mf.parts(), i + LAYOUT_BATCH); j++) {
          b.addKeys(mf.partKey(j));
        }
        BatchGetReplicaListResponse r = call("stat '" + key + "'", st -> st.batchGetReplicaList(b.build()));
        for (var it : r.getItemsList()) {
          if (it.getStatus().getCode() != 0) {
            acc[2] = -1;
            continue;
          }
          account(LayoutProtos.fromProto(it.getReplica()), alive, acc, true,
              corruptShards(it.getReplica()));
        }
      }
    } catch (RqException e) {
      if (e.code() != RqException.Code.DATA_LOSS) {
        throw e;
      }
      acc[2] = -1;
    }
    int tol = acc[2] == Integer.MAX_VALUE ? m : acc[2];
    boolean repairing = acc[1] > 0 && repairing(key, statManifest);
    return new ObjectStat(key, size, type, blocks, acc[0], m, acc[1], tol, repairing);
  }

  /** Adds the shards and lost shards of a layout; lowers the tolerance to its worst block. */
  private void account(ObjectLayout l, Set<String> alive, int[] acc, boolean countShards,
      Set<String> corrupt) {
    for (BlockLayout b : l.blocks()) {
      // live symbols per node: a node loss takes all of its shards (self-healing may add a
      // second shard of a block to a node)
      Map<String, Integer> perNode = new HashMap<>();
      int liveSymbols = 0;
      for (ShardLayout s : b.shards()) {
        if (countShards) {
          acc[0]++;
        }
        String at = s.segment() + "@" + s.offset();
        boolean ok = alive(s.segment(), alive) && !badShards.contains(badKey(s)) && !corrupt.contains(at);
        if (ok) {
          perNode.merge(segment(s.segment()).nodeId(), s.esiCount(), Integer::sum);
          liveSymbols += s.esiCount();
        } else if (countShards) {
          acc[1]++;
        }
      }
      List<Integer> live = new ArrayList<>(perNode.values());
      int tol;
      if (liveSymbols < b.k()) {
        tol = -1;
      } else {
        live.sort(Comparator.reverseOrder());
        tol = 0;
        int left = liveSymbols;
        for (int c : live) {
          if (left - c < b.k() + DECODE_MARGIN) {
            break;
          }
          left -= c;
          tol++;
        }
      }
      acc[2] = Math.min(acc[2], tol);
    }
  }

  @Override
  public ClusterStatus status() {
    ListSegmentsResponse segs = refreshSegments();
    Set<String> alive = aliveNodes();
    List<ClusterStatus.SegmentStatus> out = new ArrayList<>();
    for (ListSegmentsResponse.Item it : segs.getSegmentsList()) {
      var s = it.getSegment();
      out.add(new ClusterStatus.SegmentStatus(s.getName(), s.getNodeId(),
          alive.contains(s.getNodeId()), s.getEndpoint().getTransport(), s.getSize(),
          it.getFreeBytes(), it.getLiveShards()));
    }
    var all = call("status", st -> st.getReplicaListByRegex(
        GetReplicaListByRegexRequest.newBuilder().setKeyRegex("(?s).*").build()));
    long objects = 0;
    Set<String> degradedStashes = new HashSet<>();
    long degradedManifests = 0;
    for (ReplicaInfo ri : all.getReplicasList()) {
      ObjectLayout l = LayoutProtos.fromProto(ri);
      boolean internal = l.key().startsWith(Manifest.INTERNAL_PREFIX);
      if (!internal) {
        objects++;
      }
      int[] acc = {0, 0, Integer.MAX_VALUE};
      account(l, alive, acc, true, corruptShards(ri));
      if (acc[1] > 0) {
        if (internal) {
          String rest = l.key().substring(Manifest.INTERNAL_PREFIX.length());
          degradedStashes.add(rest.substring(0, Math.max(0, rest.indexOf('/'))));
        } else {
          degradedManifests++;
        }
      }
    }
    String addr = master.address().host() + ":" + master.address().port();
    return new ClusterStatus(ignite.cluster().forServers().nodes().size(), out, objects,
        Math.min(objects, Math.max(degradedStashes.size(), degradedManifests)), addr);
  }

  // ---------------------------------------------------------------- self-healing (see Repairer)

  /** Outcome of repairing one object: new shards written and their bytes. */
  record RepairOutcome(int newShards, long bytesWritten) {}

  /**
   * Repairs every block of master object {@code key} (a part or a manifest) that has shards on
   * lost segments, on nodes that left, marked corrupt by the master (ReportCorrupt), or that
   * failed their checks when last read here: reads K
   * (+ margin) valid symbols through {@link #readObject}, recovers the source block, asks the
   * master for regions with fresh ESIs (RepairStart), encodes those repair symbols, writes them
   * through the transfer engine (each region paced by {@code bucket}) and swaps them in
   * (RepairEnd). A failure after RepairStart revokes the repair.
   *
   * @param lostSegs segments the master reports lost
   * @return what was written, or null when the object is gone or had nothing to repair
   */
  RepairOutcome repairObject(String key, Set<String> lostSegs, Repairer.TokenBucket bucket) {
    ReplicaInfo ri;
    try {
      ri = call("repair: get '" + key + "'",
          s -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build())).getReplica();
    } catch (RqException e) {
      if (e.code() == RqException.Code.NOT_FOUND) {
        return null;
      }
      throw e;
    }
    ObjectLayout layout = LayoutProtos.fromProto(ri);
    Oti oti = Oti.decode(layout.oti());
    if (layout.blocks().size() != 1 || oti.subBlockCount() != 1) {
      LOG.warn("repair of '{}' skipped: {} blocks, {} sub-blocks; the repairer handles one-block"
          + " objects (parts and manifests)", key, layout.blocks().size(), oti.subBlockCount());
      return null;
    }
    BlockLayout b = layout.blocks().get(0);
    int t = oti.symbolSize();
    Set<String> alive = aliveNodes();
    int newShards = 0;
    long written = 0;
    try (Slot rd = new Slot(); Slot wr = new Slot()) {
      Chunk c = readObject(layout, rd, "repair of '" + key + "'");
      RepairStartRequest.Builder rq = RepairStartRequest.newBuilder().setKey(key)
          .setBlockId(b.id()).setLeaseMs((int) Math.min(cfg.stashLeaseMillis(), 86_400_000L));
      for (int i = 0; i < b.shards().size(); i++) {
        ShardLayout s = b.shards().get(i);
        if (lostSegs.contains(s.segment()) || !alive(s.segment(), alive)
            || badShards.contains(badKey(s))
            || ri.getBlocks(0).getShards(i).getCorrupt()) {
          rq.addLostShards(i);
        }
      }
      if (rq.getLostShardsCount() == 0) {
        return null;
      }
      RepairStartResponse rs = call("repair: start '" + key + "'", s -> s.repairStart(rq.build()));
      boolean ok = false;
      try {
        long need = 0;
        for (BufHandle h : rs.getShardsList()) {
          need += h.getSize();
        }
        Segment stg = wr.staging(need);
        ArrowBuf buf = stg.buffer();
        int[] crcs = new int[rs.getShardsCount()];
        int repair = 0;
        for (BufHandle h : rs.getShardsList()) {
          repair += h.getEsiCount(); // fresh ESIs above every ESI the block used: all repair
        }
        try (SourceBlockEncoder enc = SourceBlockEncoder.create(wr.pool(), plan(b.k()), t, c.buf(), c.off(), repair)) {
          long off = 0;
          for (int i = 0; i < rs.getShardsCount(); i++) {
            BufHandle h = rs.getShards(i);
            long sym = off + ShardLayout.HEADER_BYTES;
            for (int q = 0; q < h.getEsiCount(); q++) {
              enc.encodeSymbolTo(h.getFirstEsi() + q, buf.memoryAddress() + sym + (long) q * t);
            }
            int crc = ShardIo.crc32c(buf, sym, (long) h.getEsiCount() * t);
            ShardIo.writeHeader(buf, off, b.id(), h.getFirstEsi(), h.getEsiCount(), t, crc);
            crcs[i] = crc;
            SegInfo target = segment(h.getSegmentName());
            if (target == null || !alive.contains(target.nodeId())) {
              throw new RqException(RqException.Code.UNAVAILABLE, "repair of '" + key
                  + "': the master placed a new shard on segment " + h.getSegmentName()
                  + ", which is not reachable", null);
            }
            bucket.acquire(h.getSize());
            var tb = engine.submit(List.of(
                TransferRequest.write(stg, off, target.descriptor(), h.getOffset(), h.getSize())));
            try {
              tb.future().get();
            } catch (ExecutionException e) {
              throw new RqException(RqException.Code.UNAVAILABLE, "repair of '" + key
                  + "': writing a new shard to " + h.getSegmentName() + " failed: "
                  + e.getCause(), e.getCause());
            }
            written += h.getSize();
            newShards++;
            off += h.getSize();
          }
        }
        RepairEndRequest.Builder end = RepairEndRequest.newBuilder().setKey(key)
            .setBlockId(b.id()).setRepairId(rs.getRepairId());
        for (int crc : crcs) {
          end.addShardCrc32C(crc);
        }
        call("repair: end '" + key + "'", s -> s.repairEnd(end.build()));
        ok = true;
        for (int i : rq.getLostShardsList()) {
          ShardLayout s = b.shards().get(i);
          badShards.remove(badKey(s));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RqException(RqException.Code.UNAVAILABLE, "repair of '" + key + "' interrupted", e);
      } finally {
        if (!ok) {
          try {
            call("repair: revoke '" + key + "'", s -> s.repairRevoke(RepairRevokeRequest.newBuilder()
                .setKey(key).setBlockId(b.id()).setRepairId(rs.getRepairId()).build()));
          } catch (RqException e) {
            if (e.code() != RqException.Code.NOT_FOUND) {
              LOG.warn("repair of '{}' could not be revoked ({}); its lease frees it", key,
                  e.getMessage());
            }
          }
        }
      }
    }
    return new RepairOutcome(newShards, written);
  }

  /** @return true if the master reports a repair open on the object's manifest or parts */
  private boolean repairing(String key, Manifest mf) {
    String re = Pattern.quote(key) + (mf == null ? "" : "|" + Pattern.quote(mf.partKey(0)
        .substring(0, mf.partKey(0).lastIndexOf('/') + 1)) + "[0-9]+");
    var r = call("stat '" + key + "'", s -> s.listDegraded(
        ListDegradedRequest.newBuilder().setKeyRegex(re).build()));
    for (var it : r.getItemsList()) {
      if (it.getRepairing()) {
        return true;
      }
    }
    return false;
  }

  /** For tests: the shards that failed their checks when last read. */
  Set<String> badShards() {
    return badShards;
  }

  @SuppressWarnings("unused")
  private static String hex(byte[] b) {
    return Arrays.toString(b);
  }
}
