package io.runicquanta.transfer;

import io.runicquanta.transfer.spi.MemoryRegistration;
import io.runicquanta.transfer.spi.SliceOp;
import io.runicquanta.transfer.spi.TargetSegments;
import io.runicquanta.transfer.spi.Transport;
import io.runicquanta.transfer.spi.TransportContext;
import io.runicquanta.transfer.spi.TransportProvider;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The engine: segment table, slicing, striping, byte limit, retries and timeouts over one {@link
 * Transport}.
 *
 * <h2>Scheduling</h2>
 *
 * Each request is cut into slices of at most {@code sliceBytes}. Slices wait in one FIFO queue for
 * all batches; {@link #pump()} moves them onto rails while the bytes in flight stay within {@code
 * maxBytesInFlight} (one slice may always run, so a slice larger than the limit still progresses).
 * A slice goes to the least loaded rail that its batch has not seen fail (ties rotate), so a large
 * request runs concurrently on every rail. {@code pump} is a drain loop guarded by a counter, so a
 * transport that completes a slice on the calling thread does not recurse.
 *
 * <p>Slice size: an explicit builder {@code sliceBytes} is used as is. Otherwise the transport's
 * {@link Transport#preferredSliceBytes()} (local, tcp and fabric over shm 1 MiB, other fabric 64 KiB) caps it, and so do a
 * rail's share of the batch (a batch of a single large request still runs on every rail) and half a rail's
 * share of {@code maxBytesInFlight} (every rail can have a slice queued behind the one it moves, and
 * after a rail fails at most the in-flight bound of its bytes was still counted on it), never below
 * 64 KiB. Per-slice costs (a future, a queue hand-off, a response on tcp) used to be paid every
 * 64 KiB; with 1 MiB slices they are paid 16 times less often for large requests.
 *
 * <p>Waiting: the batch future's blocking {@code get}/{@code join} first runs slices the transport
 * still has queued on the waiting thread ({@link Transport#help()}; only {@code local} has such
 * slices), so a caller that submits and waits copies alongside the rail threads instead of parking
 * and waiting to be woken on a busy machine. Dependent stages registered without an executor may
 * therefore run on a thread blocked in {@code get}/{@code join} as well as on the rail threads. When
 * nothing is left to run but slices are still on the rails, it spins up to 0.2 ms before it parks
 * (only if it ran a slice itself, so a tcp or fabric waiter never spins).
 *
 * <p>Inline requests: a request that fits one slice and at most {@link Transport#inlineBytes()} (only
 * {@code local} has such, 128 KiB: a copy of microseconds, which a hand-off to a rail thread and its
 * wake-up would cost more than) runs on the submitting thread inside {@code submit}, after the
 * batch's other slices were queued, so {@code submit} returns with those requests done or failed.
 * Each submitting thread copies its own requests, so concurrent submitters still copy in parallel.
 *
 * <p>Bookkeeping per slice is kept off locks: bytes in flight and per-rail load are atomics that a
 * finishing slice decrements without the queue lock, and a batch learns that its requests are done
 * from a counter that each request future decrements when it completes (however it completes:
 * engine, timeout, cancel, close) instead of an {@code allOf} tree of futures.
 *
 * <h2>Faults</h2>
 *
 * A slice failing with {@link RailFailedException} marks its rail dead for its batch (a rail that
 * broke towards one peer may still work for another, and the next batch tries it again) and goes
 * back to the head of the queue; when every rail of the batch is dead the request fails with all the
 * rail errors attached. {@link TransferRefusedException} fails the request at once. The requests of a
 * batch share one timer that fails those still running when their timeout passes; a batch whose
 * requests all run inline schedules none (the inline loop checks the deadline itself); slices of a failed or cancelled request still queued
 * are dropped, those on a rail finish on their own (a one-sided operation posted to the NIC cannot
 * be recalled); the batch future completes only after they have, so once it is done the batch will
 * never touch either side's memory again, even when it was cancelled or timed out.
 *
 * <h2>Target side</h2>
 *
 * As {@link TargetSegments}, the engine checks remote requests for transports whose target runs code
 * (local, tcp): the segment must exist under the presented name and key, be open, and contain the
 * whole range; the access pins the segment until done so that close never frees memory in use.
 */
final class DefaultTransferEngine implements TransferEngine, TargetSegments {
  private final String name;
  private final String transportName;
  private final int rails;
  private final int sliceBytes;
  private final boolean explicitSlice;
  private final long maxBytesInFlight;
  private final Duration defaultTimeout;
  private final BufferAllocator allocator;
  private final Transport transport;
  private final ConcurrentHashMap<String, DefaultSegment> segments = new ConcurrentHashMap<>();
  private final AtomicLong keys = new AtomicLong(System.nanoTime() & 0xFFFF_FFFFL);
  private final ScheduledThreadPoolExecutor timer;
  private final LongAdder[] railBytes;
  /** Bytes on each rail; added by the pump, subtracted by finishing slices without the lock. */
  private final java.util.concurrent.atomic.AtomicLongArray railLoad;
  private final boolean[] railClosed;
  private final Object lock = new Object();
  private final ArrayDeque<Slice> queue = new ArrayDeque<>();
  private final java.util.Set<Batch> active = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  private final AtomicInteger pumpWip = new AtomicInteger();
  /** Scratch lists of {@link #pump()}, used only by the thread that holds {@link #pumpWip}. */
  private final List<Slice> pumpIssue = new ArrayList<>();
  private final List<Slice> pumpNoRail = new ArrayList<>();
  /**
   * Bytes in flight; added by the pump, subtracted by finishing slices without the lock (the pump
   * may see a stale, higher value: it only waits longer, and every finish pumps again).
   */
  private final AtomicLong inFlightBytes = new AtomicLong();
  /** {@code queue.size()}, written under {@link #lock} and read without it by finishing slices. */
  private volatile int queued;
  private int rotate;
  /** Rail rotation of inline slices; a racy counter is fine. */
  private int inlineRotate;
  private volatile boolean closed;

  DefaultTransferEngine(TransferEngineBuilder b) {
    this.name = b.name;
    this.transportName = b.transport;
    this.rails = b.rails;
    this.maxBytesInFlight = b.maxBytesInFlight;
    this.defaultTimeout = b.requestTimeout;
    this.railBytes = new LongAdder[rails];
    for (int i = 0; i < rails; i++) {
      railBytes[i] = new LongAdder();
    }
    this.railLoad = new java.util.concurrent.atomic.AtomicLongArray(rails);
    this.railClosed = new boolean[rails];
    TransportProvider provider = b.registry.provider(b.transport);
    Throwable cause = provider.unavailabilityCause();
    if (cause != null) {
      throw new TransportUnavailableException(
          "transport '" + b.transport + "' is unavailable on this machine: " + cause.getMessage(), cause);
    }
    this.allocator = b.allocator.newChildAllocator("transfer-engine-" + name, 0, b.allocator.getLimit());
    boolean ok = false;
    try {
      this.transport = provider.open(new TransportContext(name, rails, b.options, this));
      ok = true;
    } finally {
      if (!ok) {
        allocator.close();
      }
    }
    this.explicitSlice = b.sliceBytes > 0;
    this.sliceBytes = explicitSlice ? b.sliceBytes : Math.max(4096, transport.preferredSliceBytes());
    timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "rq-transfer-" + name + "-timer");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String transport() {
    return transportName;
  }

  @Override
  public int rails() {
    return rails;
  }

  // ---------------------------------------------------------------- segments

  @Override
  public Segment registerSegment(String segmentName, ArrowBuf memory) {
    if (memory == null || memory.capacity() <= 0) {
      throw new IllegalArgumentException(
          "segment memory must be a non-empty buffer, got " + (memory == null ? "null" : memory.capacity() + " bytes"));
    }
    return register(segmentName, memory, false);
  }

  @Override
  public Segment allocateSegment(String segmentName, long lengthBytes) {
    if (lengthBytes <= 0) {
      throw new IllegalArgumentException("segment length must be >= 1 byte, got " + lengthBytes);
    }
    checkName(segmentName);
    ArrowBuf buf = allocator.buffer(lengthBytes);
    boolean ok = false;
    try {
      buf.setZero(0, lengthBytes);
      Segment s = register(segmentName, buf, true);
      ok = true;
      return s;
    } finally {
      if (!ok) {
        buf.close();
      }
    }
  }

  private static void checkName(String segmentName) {
    if (segmentName == null || segmentName.isEmpty() || segmentName.length() > 1024) {
      throw new IllegalArgumentException("segment name must be 1..1024 chars, got " + segmentName);
    }
  }

  private Segment register(String segmentName, ArrowBuf memory, boolean owned) {
    checkName(segmentName);
    checkOpen();
    DefaultSegment seg = new DefaultSegment(this, keys.incrementAndGet(), segmentName, memory, owned);
    if (segments.putIfAbsent(segmentName, seg) != null) {
      throw new IllegalArgumentException(
          "segment name '" + segmentName + "' already registered in engine '" + name + "'");
    }
    boolean ok = false;
    try {
      MemoryRegistration reg = transport.register(segmentName, seg.key, seg.address(), seg.length());
      seg.registered(reg, new SegmentDescriptor(segmentName, seg.length(), transportName, reg.endpoints()));
      ok = true;
      return seg;
    } finally {
      if (!ok) {
        segments.remove(segmentName, seg);
      }
    }
  }

  void forget(DefaultSegment seg) {
    segments.remove(seg.name(), seg);
  }

  @Override
  public TargetAccess acquire(String segmentName, long key, long offset, long length, TransferOp op) {
    DefaultSegment seg = segments.get(segmentName);
    if (seg == null) {
      throw new TransferRefusedException(
          "unknown or closed segment '" + segmentName + "' on engine '" + name + "'");
    }
    if (seg.key != key) {
      throw new TransferRefusedException(
          "segment '" + segmentName + "' on engine '" + name + "': key " + key
              + " does not match registration key " + seg.key + " (stale or forged descriptor)");
    }
    if (offset < 0 || length < 0 || offset > seg.length() - length) {
      throw new TransferRefusedException(
          op + " range [" + offset + ", +" + length + ") outside segment '" + segmentName
              + "' of " + seg.length() + " bytes on engine '" + name + "'");
    }
    if (!seg.tryAcquire()) {
      throw new TransferRefusedException(
          "segment '" + segmentName + "' on engine '" + name + "' is closed");
    }
    long address = seg.address() + offset;
    return new TargetAccess() {
      private boolean released;

      @Override
      public long address() {
        return address;
      }

      @Override
      public void close() {
        if (!released) {
          released = true;
          seg.release();
        }
      }
    };
  }

  // ---------------------------------------------------------------- batches

  @Override
  public TransferBatch submit(List<TransferRequest> requests, Duration timeout) {
    checkOpen();
    if (requests == null || requests.isEmpty()) {
      throw new IllegalArgumentException("batch must hold at least one request, got " + requests);
    }
    Duration t = timeout == null ? defaultTimeout : timeout;
    if (t.isNegative() || t.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + t);
    }
    for (int i = 0; i < requests.size(); i++) {
      validate(i, requests.get(i));
    }
    Batch batch = new Batch(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      batch.bytes += requests.get(i).length();
    }
    List<Slice> slices = new ArrayList<>(requests.size());
    List<Request> inline = null;
    int inlineMax = transport.inlineBytes();
    for (int i = 0; i < requests.size(); i++) {
      TransferRequest tr = requests.get(i);
      Request r = new Request(batch, i, tr);
      batch.requests.add(r.future);
      long slice = sliceFor(tr.length(), batch.bytes);
      if (tr.length() <= inlineMax && tr.length() <= slice) {
        if (inline == null) {
          inline = new ArrayList<>(requests.size() - i);
        }
        inline.add(r);
        continue;
      }
      for (long off = 0; off < tr.length(); off += slice) {
        slices.add(new Slice(r, off, (int) Math.min(slice, tr.length() - off)));
      }
    }
    batch.open.set(requests.size());
    long deadline = System.nanoTime() + t.toNanos();
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("transfer engine '" + name + "' is closed");
      }
      for (Slice s : slices) {
        queue.addLast(s);
      }
      queued = queue.size();
      active.add(batch);
      if (!slices.isEmpty()) {
        scheduleTimeout(batch, t, deadline);
      }
    }
    pump();
    if (inline != null) {
      runInline(inline, t, deadline);
      if (batch.timeoutTask == null && !batch.allDone) {
        // Some inline requests went to the queue (byte bound, failed rail): now they need the timer.
        synchronized (lock) {
          if (!closed && !batch.allDone) {
            scheduleTimeout(batch, t, deadline);
          }
        }
      }
    }
    return batch;
  }

  /**
   * Schedules the batch's one timer (all its requests start together with the same timeout) that
   * fails those still running at {@code deadline}. Called under {@link #lock} with the engine open,
   * at most once per batch, and only for a batch that has requests outside the inline path: a batch
   * whose requests all ran inline was checked against its deadline while copying and never needs one
   * (a timer per batch cost a schedule, a wake-up of the timer thread and a cancel). A batch that
   * completed meanwhile cancels the timer itself ({@link Batch#requestDone}); if it completed just
   * before the timer was published, this does.
   */
  private void scheduleTimeout(Batch batch, Duration t, long deadline) {
    ScheduledFuture<?> task = timer.schedule(() -> {
      for (CompletableFuture<Void> f : batch.requests) {
        Request r = ((RequestFuture) f).request;
        if (!f.isDone()) {
          r.fail(timedOut(r, t));
        }
      }
    }, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    batch.timeoutTask = task;
    if (batch.allDone) {
      task.cancel(false);
    }
  }

  private static TransferTimeoutException timedOut(Request r, Duration t) {
    return new TransferTimeoutException("request " + r.describe() + " timed out after " + t.toMillis() + " ms");
  }

  /**
   * Runs single-slice requests of at most {@link Transport#inlineBytes()} on the submitting thread
   * with the same accounting as a slice on a rail (bytes in flight, rail load and bytes, the local
   * segment pinned, retry on the batch's other rails through the queue when the rail fails). A
   * request that the in-flight bound does not admit right now, or whose rail failed, goes to the
   * queue instead; a request already failed (timeout, cancel, close) is skipped.
   *
   * <p>Requests run in groups of up to {@link #INLINE_GROUP} on one rail: the bookkeeping of the
   * whole group (rail, bytes in flight, pins), then its copies back to back, then its completions.
   * The aim: a 64 KiB copy evicts most of the L1 and part of the L2 cache, so bookkeeping between two
   * copies found the engine's and the batch's state (counters, segment pins, the target's segment
   * table) cold every time; per group it is fetched once and hit by the group's other requests. It
   * was measured only together with the other per-request changes of 2026-12-01 (rdma-transfer
   * README, "local 64 KiB, per-request cost"). Rails rotate per group.
   */
  private void runInline(List<Request> inline, Duration t, long deadline) {
    List<Slice> later = null;
    int n = inline.size();
    InlineGroup group = new InlineGroup(Math.min(INLINE_GROUP, n));
    for (int i = 0; i < n; i++) {
      // The batch has no timer while its requests run here: check the deadline once per group.
      if ((i % INLINE_GROUP) == 0 && System.nanoTime() - deadline >= 0) {
        runGroup(group);
        for (int j = i; j < n; j++) {
          inline.get(j).fail(timedOut(inline.get(j), t));
        }
        break;
      }
      Request r = inline.get(i);
      if (r.future.isDone()) {
        continue;
      }
      Slice s = new Slice(r, 0, (int) r.req.length());
      long inFlight = inFlightBytes.get();
      if (group.size > 0 && (group.size == group.slices.length || inFlight + s.length > maxBytesInFlight)) {
        runGroup(group); // full, or its own bytes keep this request out of the bound
        inFlight = inFlightBytes.get();
      }
      int rail = closed || (inFlight > 0 && inFlight + s.length > maxBytesInFlight) ? -2
          : group.size > 0 ? group.rail : inlineRail(r.batch);
      if (rail == -1) {
        r.failNoRail();
        continue;
      }
      if (rail < 0) {
        if (later == null) {
          later = new ArrayList<>();
        }
        later.add(s);
        continue;
      }
      s.rail = rail;
      inFlightBytes.addAndGet(s.length);
      railLoad.addAndGet(rail, s.length);
      SliceOp op = begin(s);
      if (op != null) {
        group.rail = rail;
        group.slices[group.size] = s;
        group.ops[group.size] = op;
        group.size++;
      }
    }
    runGroup(group);
    if (later != null) {
      synchronized (lock) {
        if (!closed) {
          queue.addAll(later);
          queued = queue.size();
        }
      }
      if (closed) {
        for (Slice s : later) {
          s.request.fail(new TransferException("transfer engine '" + name + "' closed with "
              + s.request.describe() + " pending"));
        }
      }
      pump();
    }
  }

  /**
   * Rail for an inline slice: the next open rail its batch has not seen fail, rotating (without the
   * lock: a stale view of a rail just closed only makes the transport fail the slice, which is then
   * retried on another rail); -1 when none is left.
   */
  private int inlineRail(Batch batch) {
    int start = inlineRotate++;
    for (int k = 0; k < rails; k++) {
      int r = Math.floorMod(start + k, rails);
      if (!railClosed[r] && !batch.isDead(r)) {
        return r;
      }
    }
    return -1;
  }

  /** Slice length for a batch of one request of {@code length} bytes; see {@link #sliceFor(long, long)}. */
  long sliceFor(long length) {
    return sliceFor(length, length);
  }

  /**
   * Slice length for a request of {@code length} bytes in a batch of {@code batchBytes}: the
   * builder's {@code sliceBytes} when it was set; else the transport's preference, but at most a
   * rail's share of the batch (so a batch of one large request still runs on every rail) and at most
   * half a rail's share of the in-flight bound (so every rail can have a second slice queued behind
   * the one it is moving), in 4 KiB steps and never below {@link #MIN_SLICE}.
   *
   * <p>The share is of the batch, not of the request (until 2026-12-01 it was the request's): a batch
   * of 32 requests of 1 MiB on 4 rails keeps every rail busy with whole requests, and cutting each
   * into four 256 KiB slices only paid four times the per-slice costs (on tcp a header, a response
   * and a completion each: 326 against the socket copy's 254 us of CPU per MiB, 0.80x of its
   * throughput, while 16 MiB requests, cut to 1 MiB slices either way, ran at 1.12x).
   */
  long sliceFor(long length, long batchBytes) { // batchBytes >= length
    if (explicitSlice) {
      return sliceBytes;
    }
    long perRail = (batchBytes + rails - 1) / rails;
    long window = maxBytesInFlight / (2L * rails);
    long s = Math.min(sliceBytes, Math.min(perRail, window));
    s = (s + 4095) & ~4095L;
    return Math.max(Math.min(MIN_SLICE, sliceBytes), Math.min(s, sliceBytes));
  }

  /** Smallest slice the engine cuts on its own (an explicit {@code sliceBytes} may be smaller). */
  static final long MIN_SLICE = 64 << 10;

  private void validate(int i, TransferRequest r) {
    if (!(r.local() instanceof DefaultSegment seg) || seg.engine != this) {
      throw new IllegalArgumentException(
          "request " + i + ": local segment " + r.local() + " does not belong to engine '" + name + "'");
    }
    if (!seg.isOpen()) {
      throw new IllegalArgumentException("request " + i + ": local segment '" + seg.name() + "' is closed");
    }
    if (!r.remote().transport().equals(transportName)) {
      throw new IllegalArgumentException(
          "request " + i + ": remote segment '" + r.remote().name() + "' is registered with transport '"
              + r.remote().transport() + "', this engine uses '" + transportName + "'");
    }
    if (r.remoteOffset() > r.remote().length() - r.length()) {
      throw new IllegalArgumentException(
          "request " + i + ": remote range [" + r.remoteOffset() + ", +" + r.length()
              + ") outside segment '" + r.remote().name() + "' of " + r.remote().length() + " bytes");
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("transfer engine '" + name + "' is closed");
    }
  }

  /** Drain loop: moves queued slices onto rails within the byte limit. */
  private void pump() {
    if (pumpWip.getAndIncrement() != 0) {
      return;
    }
    List<Slice> issue = pumpIssue;
    List<Slice> noRail = pumpNoRail;
    do {
      synchronized (lock) {
        while (!queue.isEmpty()) {
          Slice s = queue.peekFirst();
          if (s.request.future.isDone()) {
            queue.pollFirst();
            continue;
          }
          long inFlight = inFlightBytes.get();
          if (inFlight > 0 && inFlight + s.length > maxBytesInFlight) {
            break;
          }
          queue.pollFirst();
          int rail = pickRail(s.request.batch);
          if (rail < 0) {
            noRail.add(s);
            continue;
          }
          s.rail = rail;
          inFlightBytes.addAndGet(s.length);
          railLoad.addAndGet(rail, s.length);
          issue.add(s);
        }
        queued = queue.size();
      }
      for (int i = 0; i < noRail.size(); i++) {
        noRail.get(i).request.failNoRail();
      }
      for (int i = 0; i < issue.size(); i++) {
        start(issue.get(i));
      }
      issue.clear();
      noRail.clear();
    } while (pumpWip.decrementAndGet() != 0);
  }

  private int pickRail(Batch batch) {
    int best = -1;
    long bestLoad = Long.MAX_VALUE;
    int start = rotate++;
    for (int k = 0; k < rails; k++) {
      int r = Math.floorMod(start + k, rails);
      if (railClosed[r] || batch.isDead(r)) {
        continue;
      }
      long load = railLoad.get(r);
      if (load < bestLoad) {
        best = r;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Hands a slice (already counted in flight and on its rail) to the transport. */
  private void start(Slice s) {
    SliceOp op = begin(s);
    if (op == null) {
      return;
    }
    CompletableFuture<Void> f;
    try {
      f = transport.submit(s.rail, op);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((v, e) -> finish(s, e, true));
  }

  /**
   * Counts a slice (already counted in flight and on its rail) on its batch's rails and pins its
   * local segment; returns the operation for the transport, or null when the local segment was closed
   * (the slice is then finished with that error).
   */
  private SliceOp begin(Slice s) {
    Request r = s.request;
    r.batch.onRail.incrementAndGet();
    DefaultSegment local = (DefaultSegment) r.req.local();
    if (!local.tryAcquire()) {
      finish(s, new TransferException("local segment '" + local.name() + "' was closed during " + r.describe()), false);
      return null;
    }
    return new SliceOp(r.req.op(), local.registration(),
        local.address() + r.req.localOffset() + s.offset, r.req.remote(), r.req.remoteOffset() + s.offset, s.length);
  }

  /** Inline requests run together: at most this many, all on one rail. */
  static final int INLINE_GROUP = 16;

  /** Slices of one inline group, begun and not yet run; reused by one {@link #runInline} call. */
  private static final class InlineGroup {
    final Slice[] slices;
    final SliceOp[] ops;
    final RuntimeException[] errors;
    int size;
    int rail;

    InlineGroup(int capacity) {
      slices = new Slice[capacity];
      ops = new SliceOp[capacity];
      errors = new RuntimeException[capacity];
    }
  }

  /**
   * Runs the group's slices on this thread ({@link Transport#runInline(int, SliceOp[], int,
   * RuntimeException[])}: the copies back to back) and then finishes them one after the other.
   */
  private void runGroup(InlineGroup g) {
    if (g.size == 0) {
      return;
    }
    try {
      transport.runInline(g.rail, g.ops, g.size, g.errors);
    } catch (RuntimeException e) {
      for (int k = 0; k < g.size; k++) {
        if (g.errors[k] == null) {
          g.errors[k] = e;
        }
      }
    }
    for (int k = 0; k < g.size; k++) {
      Slice s = g.slices[k];
      RuntimeException err = g.errors[k];
      g.slices[k] = null;
      g.ops[k] = null;
      g.errors[k] = null;
      finish(s, err, true);
    }
    g.size = 0;
  }

  private void finish(Slice s, Throwable e, boolean acquired) {
    Request r = s.request;
    if (acquired) {
      ((DefaultSegment) r.req.local()).release();
    }
    inFlightBytes.addAndGet(-s.length);
    railLoad.addAndGet(s.rail, -s.length);
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause == null) {
      railBytes[s.rail].add(s.length);
      if (REMAINING.addAndGet(r, -s.length) == 0) {
        r.future.complete(null);
      }
    } else if (cause instanceof RailFailedException rf) {
      r.batch.markDead(s.rail, rf);
      if (!r.future.isDone()) {
        synchronized (lock) {
          if (!closed) {
            queue.addFirst(s);
            queued = queue.size();
          }
        }
        if (closed) {
          r.fail(new TransferException("transfer engine '" + name + "' closed during " + r.describe(), cause));
        }
      }
    } else if (cause instanceof TransferException te) {
      r.fail(te);
    } else {
      r.fail(new TransferException("slice of " + r.describe() + " failed on rail " + s.rail + ": " + cause, cause));
    }
    r.batch.onRail.decrementAndGet();
    r.batch.trySettle();
    // Only queued slices can be waiting for the bytes this slice freed. A slice queued after the read
    // of queued is pumped by its queuer, which then sees the decrement of inFlightBytes above.
    if (e != null || queued > 0) {
      pump();
    }
  }

  @Override
  public long[] railBytes() {
    long[] out = new long[rails];
    for (int i = 0; i < rails; i++) {
      out[i] = railBytes[i].sum();
    }
    return out;
  }

  @Override
  public void closeRail(int rail) {
    if (rail < 0 || rail >= rails) {
      throw new IllegalArgumentException("rail must be 0.." + (rails - 1) + ", got " + rail);
    }
    synchronized (lock) {
      railClosed[rail] = true;
    }
    transport.closeRail(rail);
    pump();
  }

  @Override
  public void close() {
    List<Batch> pending;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      queue.clear();
      queued = 0;
      pending = new ArrayList<>(active);
    }
    for (Batch b : pending) {
      for (CompletableFuture<Void> f : b.requests) {
        Request r = ((RequestFuture) f).request;
        r.fail(new TransferException("transfer engine '" + name + "' closed with " + r.describe() + " pending"));
      }
    }
    Throwable failure = null;
    try {
      transport.close();
    } catch (RuntimeException e) {
      failure = e;
    }
    for (DefaultSegment seg : List.copyOf(segments.values())) {
      try {
        seg.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    timer.shutdownNow();
    try {
      allocator.close();
    } catch (RuntimeException e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (failure instanceof RuntimeException re) {
      throw re;
    }
  }

  @Override
  public String toString() {
    return "TransferEngine[" + name + ", " + transportName + ", " + rails + " rails]";
  }

  // ---------------------------------------------------------------- state objects

  private final class Batch implements TransferBatch {
    final List<CompletableFuture<Void>> requests;
    final RailFailedException[] dead;
    /** Requests not yet done; the last one to finish runs {@link #allRequestsDone()}. */
    final AtomicInteger open = new AtomicInteger();
    /** The first failure of a request, reported by the batch future. */
    final java.util.concurrent.atomic.AtomicReference<Throwable> firstFailure =
        new java.util.concurrent.atomic.AtomicReference<>();
    /** Completes like {@link #all}, but only once no slice of this batch is still on a rail. */
    final CompletableFuture<Void> settled = new HelpingFuture();
    /** Slices handed to the transport and not yet finished. */
    final java.util.concurrent.atomic.AtomicInteger onRail = new java.util.concurrent.atomic.AtomicInteger();
    volatile boolean allDone;
    volatile Throwable outcome;
    volatile ScheduledFuture<?> timeoutTask;
    long bytes;

    Batch(int n) {
      requests = new ArrayList<>(n);
      dead = new RailFailedException[rails];
    }

    /** Bit i set: rail i failed for this batch (rails are at most 64); read without the lock. */
    volatile long deadRails;

    boolean isDead(int rail) {
      return (deadRails & (1L << rail)) != 0;
    }

    synchronized void markDead(int rail, RailFailedException e) {
      if (dead[rail] == null) {
        dead[rail] = e;
        deadRails |= 1L << rail;
      }
    }

    synchronized List<RailFailedException> failures() {
      List<RailFailedException> out = new ArrayList<>();
      for (RailFailedException e : dead) {
        if (e != null) {
          out.add(e);
        }
      }
      return out;
    }

    /** Called once per request when its future completes, however it completes. */
    void requestDone(Throwable failure) {
      if (failure != null) {
        firstFailure.compareAndSet(null, failure);
      }
      if (open.decrementAndGet() == 0) {
        Throwable f = firstFailure.get();
        outcome = f == null ? null : new CompletionException(f);
        // allDone before reading timeoutTask: a timer published concurrently (scheduleTimeout writes
        // timeoutTask, then reads allDone) is cancelled by one side or the other.
        allDone = true;
        ScheduledFuture<?> t = timeoutTask;
        if (t != null) {
          t.cancel(false);
        }
        synchronized (lock) {
          active.remove(this);
        }
        trySettle();
      }
    }

    /** Completes {@link #settled} once every request is done and the rails hold none of its slices. */
    void trySettle() {
      if (allDone && onRail.get() == 0 && !settled.isDone()) {
        Throwable e = outcome;
        if (e == null) {
          settled.complete(null);
        } else {
          settled.completeExceptionally(e);
        }
      }
    }

    @Override
    public CompletableFuture<Void> future() {
      return settled;
    }

    @Override
    public List<CompletableFuture<Void>> requests() {
      return List.copyOf(requests);
    }

    @Override
    public long bytes() {
      return bytes;
    }

    @Override
    public boolean cancel() {
      boolean any = false;
      for (CompletableFuture<Void> f : requests) {
        any |= f.cancel(false);
      }
      return any;
    }
  }

  /**
   * A batch future whose blocking waits ({@code get}, {@code join}) first run slices the transport
   * has queued on the waiting thread ({@link Transport#help()}), so a thread that would park
   * until the rails are done copies instead, and is not left waiting for a wake-up on a busy
   * machine. Non-blocking use (callbacks, {@code thenApply}) is unchanged.
   */
  private final class HelpingFuture extends CompletableFuture<Void> {
    static final long TAIL_SPIN_NANOS = 200_000;

    private void help(boolean timed, long deadlineNanos) {
      boolean helped = false;
      long idleSince = 0;
      while (!isDone() && (!timed || System.nanoTime() - deadlineNanos < 0)) {
        if (transport.help()) {
          // ran one queued slice; its completion may have queued more
          helped = true;
          idleSince = 0;
          continue;
        }
        if (!helped) {
          return;
        }
        // Nothing queued, but the rails are finishing the last slices (a copy of at most a slice,
        // microseconds): spin a little rather than park and wait to be woken.
        long now = System.nanoTime();
        if (idleSince == 0) {
          idleSince = now;
        } else if (now - idleSince > TAIL_SPIN_NANOS) {
          return;
        }
        Thread.onSpinWait();
      }
    }

    @Override
    public Void get() throws InterruptedException, java.util.concurrent.ExecutionException {
      help(false, 0);
      return super.get();
    }

    @Override
    public Void get(long timeout, TimeUnit unit)
        throws InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
      long deadline = System.nanoTime() + unit.toNanos(timeout);
      help(true, deadline);
      return super.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    @Override
    public Void join() {
      help(false, 0);
      return super.join();
    }
  }

  /**
   * A request's future, able to name its request for the engine. It tells its batch when it
   * completes (by the engine, a timeout, {@code cancel} or {@code close}), so a batch needs no
   * {@code allOf} tree of futures: a counter per batch. Completing it in ways the engine cannot see
   * ({@code completeAsync}, {@code obtrude*}) is refused.
   */
  private static final class RequestFuture extends CompletableFuture<Void> {
    private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<RequestFuture> COUNTED =
        java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(RequestFuture.class, "counted");
    final Request request;
    private volatile int counted;

    RequestFuture(Request request) {
      this.request = request;
    }

    private void done(Throwable failure) {
      if (COUNTED.compareAndSet(this, 0, 1)) {
        request.batch.requestDone(failure);
      }
    }

    @Override
    public boolean complete(Void value) {
      boolean now = super.complete(value);
      if (now) {
        done(null);
      }
      return now;
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
      boolean now = super.completeExceptionally(ex);
      if (now) {
        done(ex);
      }
      return now;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean before = isDone();
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled && !before) {
        done(new java.util.concurrent.CancellationException());
      }
      return cancelled;
    }

    @Override
    public CompletableFuture<Void> completeAsync(java.util.function.Supplier<? extends Void> supplier,
        java.util.concurrent.Executor executor) {
      throw new UnsupportedOperationException("a transfer request's future is completed by its engine");
    }

    @Override
    public CompletableFuture<Void> completeAsync(java.util.function.Supplier<? extends Void> supplier) {
      throw new UnsupportedOperationException("a transfer request's future is completed by its engine");
    }

    @Override
    public void obtrudeValue(Void value) {
      throw new UnsupportedOperationException("a transfer request's future is completed by its engine");
    }

    @Override
    public void obtrudeException(Throwable ex) {
      throw new UnsupportedOperationException("a transfer request's future is completed by its engine");
    }
  }

  private static final java.util.concurrent.atomic.AtomicLongFieldUpdater<Request> REMAINING =
      java.util.concurrent.atomic.AtomicLongFieldUpdater.newUpdater(Request.class, "remaining");

  private final class Request {
    final Batch batch;
    final int index;
    final TransferRequest req;
    final RequestFuture future;
    /** Bytes not yet moved ({@link #REMAINING}; a field, not an AtomicLong: one object less per request). */
    volatile long remaining;

    Request(Batch batch, int index, TransferRequest req) {
      this.batch = batch;
      this.index = index;
      this.req = req;
      this.future = new RequestFuture(this);
      this.remaining = req.length();
    }

    void fail(Throwable e) {
      future.completeExceptionally(e);
    }

    void failNoRail() {
      List<RailFailedException> causes = batch.failures();
      StringBuilder sb = new StringBuilder("no rail left for ").append(describe()).append(": ");
      for (int i = 0; i < causes.size(); i++) {
        sb.append(i == 0 ? "" : "; ").append(causes.get(i).getMessage());
      }
      if (causes.isEmpty()) {
        sb.append("every rail of engine '").append(name).append("' is closed");
      }
      TransferException e = new TransferException(sb.toString(), causes.isEmpty() ? null : causes.get(0));
      for (int i = 1; i < causes.size(); i++) {
        e.addSuppressed(causes.get(i));
      }
      fail(e);
    }

    String describe() {
      return req.op() + " #" + index + " of " + req.length() + " bytes, local '" + req.local().name()
          + "'+" + req.localOffset() + ", remote '" + req.remote().name() + "'+" + req.remoteOffset();
    }
  }

  private static final class Slice {
    final Request request;
    final long offset;
    final int length;
    int rail;

    Slice(Request request, long offset, int length) {
      this.request = request;
      this.offset = offset;
      this.length = length;
    }
  }
}
