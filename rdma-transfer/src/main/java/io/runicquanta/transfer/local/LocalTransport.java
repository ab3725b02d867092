package io.runicquanta.transfer.local;

import io.runicquanta.transfer.RailEndpoint;
import io.runicquanta.transfer.RailFailedException;
import io.runicquanta.transfer.TransferException;
import io.runicquanta.transfer.TransferOp;
import io.runicquanta.transfer.spi.MemoryRegistration;
import io.runicquanta.transfer.spi.SliceOp;
import io.runicquanta.transfer.spi.TargetSegments;
import io.runicquanta.transfer.spi.Transport;
import io.runicquanta.transfer.spi.TransportContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * Same-JVM transport. Every instance enters a process-wide table under a unique id; a rail endpoint
 * is {@code local:<id>:<rail>}. Each rail is one thread ({@code rq-transfer-<engine>-local-r<i>}, see {@link Lane})
 * that, per slice, finds the target instance, asks its {@link TargetSegments} to check and pin the
 * range, and copies once with {@code Unsafe.copyMemory}. A closed rail (on either side) fails its
 * slices with {@link RailFailedException}.
 *
 * <h2>Speed</h2>
 *
 * A copy costs about 0.1 ms per MiB, so what used to dominate was not the copy but the hand-offs
 * around it: on a machine with more runnable threads than cores, a thread that parks (the caller
 * waiting for its batch, a rail thread with an empty queue) may wait a scheduler slice before it
 * runs again. So: slices are large ({@link #preferredSliceBytes()} 1 MiB: one {@code copyMemory}
 * each, still fine-grained enough to stripe and to help with); the thread waiting for a batch
 * ({@code get}/{@code join} on the batch future) does not park while copies are queued but runs them
 * itself ({@link #help()}), next to the rail threads; rail threads spin briefly before they park; and
 * the endpoint address is parsed without allocating. Requests of at most {@link #INLINE_BYTES} (128
 * KiB) are not handed to a rail at all: the engine copies them on the submitting thread ({@link
 * #runInline}), with the same checks, because for a copy of a few microseconds the queue, the
 * future and the rail thread's wake-up cost more than the copy (64 KiB requests reached only 0.63x
 * to 0.76x of a plain copy loop through the rails).
 */
final class LocalTransport implements Transport {
  private static final ConcurrentHashMap<Long, LocalTransport> PEERS = new ConcurrentHashMap<>();
  private static final AtomicLong IDS = new AtomicLong();

  private final long id = IDS.incrementAndGet();
  private final TransportContext context;
  private final Lane[] lanes;
  private volatile boolean closed;
  /** Rail that {@link #help()} looks at first; a racy counter is fine. */
  private long helpRotate;

  LocalTransport(TransportContext context) {
    this.context = context;
    this.lanes = new Lane[context.rails()];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = new Lane(i);
    }
    PEERS.put(id, this);
  }

  @Override
  public String name() {
    return LocalTransportProvider.NAME;
  }

  @Override
  public int rails() {
    return lanes.length;
  }

  @Override
  public MemoryRegistration register(String segmentName, long key, long address, long length) {
    List<RailEndpoint> eps = new ArrayList<>(lanes.length);
    for (int i = 0; i < lanes.length; i++) {
      eps.add(new RailEndpoint(("local:" + id + ":" + i).getBytes(StandardCharsets.US_ASCII), key, 0));
    }
    return MemoryRegistration.of(eps);
  }

  @Override
  public CompletableFuture<Void> submit(int rail, SliceOp slice) {
    Lane lane = lanes[rail];
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (lane.closed) {
      f.completeExceptionally(new RailFailedException(rail, "local rail closed", null));
      return f;
    }
    Copy c = new Copy(rail, slice, f);
    lane.queue.add(c);
    if (lane.parked) {
      LockSupport.unpark(lane.thread);
    }
    if (lane.closed && lane.queue.remove(c)) {
      f.completeExceptionally(new RailFailedException(rail, "local rail closed", null));
    }
    return f;
  }

  @Override
  public int preferredSliceBytes() {
    return 1 << 20;
  }

  /** Requests up to this size are copied on the submitting thread (see the class comment). */
  static final int INLINE_BYTES = 128 << 10;

  @Override
  public int inlineBytes() {
    return INLINE_BYTES;
  }

  @Override
  public void runInline(int rail, SliceOp slice) {
    if (lanes[rail].closed) {
      throw new RailFailedException(rail, "local rail closed", null);
    }
    copy(rail, slice);
  }

  /**
   * Checks and pins the targets of all {@code n} slices, then copies them back to back, then unpins
   * (see {@code DefaultTransferEngine#runInline} for why the copies are kept together). A slice whose
   * check fails gets its error and is not copied; the others still are.
   */
  @Override
  public void runInline(int rail, SliceOp[] slices, int n, RuntimeException[] errors) {
    if (lanes[rail].closed) {
      RailFailedException e = new RailFailedException(rail, "local rail closed", null);
      for (int i = 0; i < n; i++) {
        errors[i] = e;
      }
      return;
    }
    TargetSegments.TargetAccess[] access = new TargetSegments.TargetAccess[n];
    try {
      for (int i = 0; i < n; i++) {
        try {
          access[i] = acquire(rail, slices[i]);
        } catch (RuntimeException e) {
          errors[i] = e;
        }
      }
      for (int i = 0; i < n; i++) {
        if (access[i] != null) {
          SliceOp s = slices[i];
          if (s.op() == TransferOp.WRITE) {
            MemoryUtil.copyMemory(s.localAddress(), access[i].address(), s.length());
          } else {
            MemoryUtil.copyMemory(access[i].address(), s.localAddress(), s.length());
          }
        }
      }
    } finally {
      for (int i = 0; i < n; i++) {
        if (access[i] != null) {
          access[i].close();
        }
      }
    }
  }

  /** Runs one copy queued on any open rail (rotating the rail it starts from). */
  @Override
  public boolean help() {
    int n = lanes.length;
    int start = (int) (helpRotate++ & 0x7FFF_FFFF);
    for (int k = 0; k < n; k++) {
      Lane lane = lanes[(start + k) % n];
      if (lane.closed) {
        continue;
      }
      Copy c = lane.queue.poll();
      if (c != null) {
        if (lane.closed) {
          c.future.completeExceptionally(new RailFailedException(lane.rail, "local rail closed", null));
        } else {
          c.run();
        }
        return true;
      }
    }
    return false;
  }

  /**
   * Parses {@code local:<id>:<rail>} without allocating; returns {@code id << 8 | rail}, or -1 when the
   * address is not a local endpoint.
   */
  static long parseEndpoint(byte[] a) {
    if (a.length < 9 || a[0] != 'l' || a[1] != 'o' || a[2] != 'c' || a[3] != 'a' || a[4] != 'l' || a[5] != ':') {
      return -1;
    }
    long id = 0;
    int i = 6;
    int digits = 0;
    for (; i < a.length && a[i] != ':'; i++, digits++) {
      if (a[i] < '0' || a[i] > '9' || digits > 15) {
        return -1;
      }
      id = id * 10 + (a[i] - '0');
    }
    if (digits == 0 || i >= a.length - 1) {
      return -1;
    }
    int rail = 0;
    for (i++; i < a.length; i++) {
      if (a[i] < '0' || a[i] > '9' || rail > 64) {
        return -1;
      }
      rail = rail * 10 + (a[i] - '0');
    }
    return rail > 64 ? -1 : id << 8 | rail;
  }

  /**
   * The endpoint of {@code rail} in {@code rails} resolved (parsed, peer looked up); the last one is
   * kept per rail, so back-to-back slices to the same segment neither copy nor parse the address nor
   * look the peer up in {@link #PEERS} again. The peer's and its rail's closed flags are still read
   * for every slice.
   */
  private record Resolved(java.util.List<RailEndpoint> rails, RailEndpoint endpoint, LocalTransport target, int targetRail) {}

  private Resolved resolve(int rail, java.util.List<RailEndpoint> rails) {
    Lane lane = lanes[rail];
    Resolved r = lane.resolved;
    if (r != null && r.rails == rails) {
      return r;
    }
    RailEndpoint ep = rails.get(rail % rails.size());
    byte[] address = ep.address();
    long parsed = parseEndpoint(address);
    if (parsed < 0) {
      throw new TransferException("not a local endpoint address: " + new String(address, StandardCharsets.US_ASCII));
    }
    LocalTransport target = PEERS.get(parsed >>> 8);
    if (target == null || target.closed) {
      throw new RailFailedException(rail, "local peer " + new String(address, StandardCharsets.US_ASCII) + " is closed", null);
    }
    r = new Resolved(rails, ep, target, (int) (parsed & 0xFF));
    lane.resolved = r;
    return r;
  }

  private void copy(int rail, SliceOp s) {
    try (TargetSegments.TargetAccess access = acquire(rail, s)) {
      if (s.op() == TransferOp.WRITE) {
        MemoryUtil.copyMemory(s.localAddress(), access.address(), s.length());
      } else {
        MemoryUtil.copyMemory(access.address(), s.localAddress(), s.length());
      }
    }
  }

  /** Finds the slice's target through {@code rail} and checks and pins its range there. */
  private TargetSegments.TargetAccess acquire(int rail, SliceOp s) {
    Resolved r = resolve(rail, s.remote().rails());
    RailEndpoint ep = r.endpoint;
    LocalTransport target = r.target;
    int targetRail = r.targetRail;
    if (target.closed) {
      lanes[rail].resolved = null; // do not keep a closed peer reachable
      String addr = new String(ep.address(), StandardCharsets.US_ASCII);
      throw new RailFailedException(rail, "local peer " + addr + " is closed", null);
    }
    if (targetRail >= target.lanes.length || target.lanes[targetRail].closed) {
      String addr = new String(ep.address(), StandardCharsets.US_ASCII);
      throw new RailFailedException(rail, "local peer rail " + addr + " is closed", null);
    }
    return target.context.segments().acquire(s.remote().name(), ep.key(), s.remoteOffset(), s.length(), s.op());
  }

  @Override
  public void closeRail(int rail) {
    lanes[rail].close();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    PEERS.remove(id);
    for (Lane lane : lanes) {
      lane.close();
    }
  }

  private final class Copy implements Runnable {
    final int rail;
    final SliceOp slice;
    final CompletableFuture<Void> future;

    Copy(int rail, SliceOp slice, CompletableFuture<Void> future) {
      this.rail = rail;
      this.slice = slice;
      this.future = future;
    }

    @Override
    public void run() {
      try {
        copy(rail, slice);
        future.complete(null);
      } catch (RuntimeException e) {
        future.completeExceptionally(e);
      }
    }
  }

  /**
   * One rail: a thread that runs copies from a lock-free queue, spinning briefly before it parks so
   * that back-to-back slices do not pay a wake-up each. An idle lane parks until a slice arrives
   * (it used to wake every millisecond, which on a machine with more threads than cores cost the
   * working threads CPU time).
   */
  private final class Lane implements Runnable {
    static final int SPINS = 2000;
    final int rail;
    final ConcurrentLinkedQueue<Copy> queue = new ConcurrentLinkedQueue<>();
    final Thread thread;
    volatile boolean parked;
    volatile boolean closed;
    /** The last endpoint this rail resolved ({@link #resolve}); racy, any thread may replace it. */
    volatile Resolved resolved;

    Lane(int rail) {
      this.rail = rail;
      this.thread = new Thread(this, "rq-transfer-" + context.engineName() + "-local-r" + rail);
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void run() {
      int idle = 0;
      while (!closed) {
        Copy c = queue.poll();
        if (c != null) {
          c.run();
          idle = 0;
        } else if (++idle < SPINS) {
          Thread.onSpinWait();
        } else {
          parked = true;
          if (queue.isEmpty() && !closed) {
            // submit() unparks a parked lane after queueing (it reads parked after its add, the lane
            // reads the queue after setting parked), so this does not poll; the timeout is a backstop.
            LockSupport.parkNanos(100_000_000L);
          }
          parked = false;
        }
      }
    }

    synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      LockSupport.unpark(thread);
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      for (Copy c; (c = queue.poll()) != null; ) {
        c.future.completeExceptionally(new RailFailedException(rail, "local rail closed", null));
      }
    }
  }
}
