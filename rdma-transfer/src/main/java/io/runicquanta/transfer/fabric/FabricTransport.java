package io.runicquanta.transfer.fabric;

import static io.runicquanta.transfer.fabric.LibFabric.*;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import io.runicquanta.transfer.RailEndpoint;
import io.runicquanta.transfer.RailFailedException;
import io.runicquanta.transfer.TransferException;
import io.runicquanta.transfer.TransferOp;
import io.runicquanta.transfer.TransferRefusedException;
import io.runicquanta.transfer.TransportUnavailableException;
import io.runicquanta.transfer.spi.MemoryRegistration;
import io.runicquanta.transfer.spi.SliceOp;
import io.runicquanta.transfer.spi.Transport;
import io.runicquanta.transfer.spi.TransportContext;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * One-sided RMA over libfabric, one independent set of fabric objects per rail (as with one NIC per
 * rail), every libfabric call of a rail made by that rail's progress thread ({@code
 * rq-transfer-<engine>-fabric-r<i>}), so the domain needs no locking.
 *
 * <h2>Call sequence per rail</h2>
 *
 * <ol>
 *   <li>{@code fi_getinfo(1.17, node, NULL, node != NULL ? FI_SOURCE : 0, hints)} with hints: caps
 *       {@code FI_RMA|FI_READ|FI_WRITE|FI_REMOTE_READ|FI_REMOTE_WRITE}, mode {@code
 *       FI_CONTEXT|FI_CONTEXT2} (we give every operation 64 bytes of context memory), {@code
 *       ep_attr.type = FI_EP_RDM}, {@code domain_attr.mr_mode = FI_MR_LOCAL|FI_MR_VIRT_ADDR|
 *       FI_MR_ALLOCATED|FI_MR_PROV_KEY} (the modes verbs and efa need; providers drop those they do
 *       not), {@code tx_attr.op_flags = FI_DELIVERY_COMPLETE} (a WRITE completes only once the data
 *       is in the target's memory), {@code fabric_attr.prov_name} = the configured provider.
 *   <li>{@code fi_fabric}, {@code fi_domain}, {@code fi_cq_open} (format {@code
 *       FI_CQ_FORMAT_CONTEXT}, no wait object: polled), {@code fi_av_open}, {@code fi_endpoint},
 *       {@code fi_ep_bind(cq, FI_TRANSMIT|FI_RECV)}, {@code fi_ep_bind(av)}, {@code fi_enable},
 *       {@code fi_getname} (the rail's endpoint address, published in segment descriptors).
 *   <li>Per segment: {@code fi_mr_reg(buf, len, FI_READ|FI_WRITE|FI_REMOTE_READ|FI_REMOTE_WRITE,
 *       requested_key = the engine's registration key)}, then {@code fi_mr_key} and {@code
 *       fi_mr_desc}. The key goes into the descriptor, with the base address when the domain uses
 *       {@code FI_MR_VIRT_ADDR} (remote address = base + offset) or 0 (remote address = offset).
 *   <li>Per slice: {@code fi_av_insert} of the peer's address (once per peer), then {@code
 *       fi_write}/{@code fi_read(buf, len, desc, fi_addr, remote address, key, context)}. {@code
 *       -FI_EAGAIN} (for example while {@code ofi_rxm} connects) leaves the slice queued; the thread
 *       polls the CQ and posts it again.
 *   <li>Completions: {@code fi_cq_read}; on {@code -FI_EAVAIL}, {@code fi_cq_readerr} and {@code
 *       fi_cq_strerror}. Access errors (bad key, range outside the registration) become {@link
 *       TransferRefusedException}; anything else a {@link RailFailedException}.
 *   <li>Close: {@code fi_close} of the endpoint, memory regions, AV, CQ, domain, fabric; {@code
 *       fi_freeinfo}.
 * </ol>
 *
 * <h2>Target-side checks and progress</h2>
 *
 * With one-sided RMA the target's CPU does not see requests; the provider checks every access
 * against the registration (key, range, access flags) and fails the initiator's completion
 * otherwise, and a closed segment's region is deregistered so its key no longer works. With manual
 * data progress ({@code tcp}, {@code shm}) the target's rail threads keep polling their CQs, which
 * drives the provider; idle, they park {@code fabric.idleParkNanos} between polls.
 *
 * <h2>Slice size, and reads over {@code shm}</h2>
 *
 * The engine cuts requests into slices of at most {@link #preferredSliceBytes()}: {@code
 * fabric.sliceBytes} if set, else 1 MiB on {@code shm} and 64 KiB on other providers. Why {@code
 * shm} differs (libfabric 1.17, rdma-transfer/README.md "shm reads"): with {@code
 * FI_DELIVERY_COMPLETE} (which we keep, because shm's one-copy "fast" RMA path skips the target's
 * key and range checks) shm 1.17 picks its protocol in {@code smr_select_proto}, and for a read
 * that function never returns the one-copy CMA protocol: its test {@code cma_avail &&
 * FI_HMEM_SYSTEM} is always false ({@code FI_HMEM_SYSTEM} is 0; fixed upstream in April 2023,
 * after 1.17), so every read goes through SAR bounce buffers (32 KiB each, up to 64 per hand-over), and
 * while one SAR operation is in progress between an endpoint and a peer, shm refuses further
 * operations to that peer with {@code -FI_EAGAIN}. A rail therefore has one read in flight at a
 * time; with 64 KiB slices each 64 KiB cost a full hand-over between the two processes' progress
 * threads, with 1 MiB slices each 1 MiB does. No option of 1.17 gives reads the CMA path with the
 * target's checks kept (the environment variables {@code FI_SHM_SAR_THRESHOLD}, {@code
 * FI_SHM_DISABLE_CMA} and {@code FI_SHM_USE_DSA_SAR} act on other branches), so larger slices are
 * what is within our reach. Writes take CMA (the target's {@code process_vm_readv}) and gain from
 * larger slices too (fewer commands).
 *
 * <h2>Memory</h2>
 *
 * Registered memory belongs to segments (Arrow buffers) that the engine keeps open until their
 * registrations are closed; operation contexts, CQ buffers and addresses are {@link Memory} fields of
 * the rail, reachable as long as the rail is.
 */
final class FabricTransport implements Transport {
  private static final Map<String, Throwable> PROBES = new ConcurrentHashMap<>();
  private static final Throwable AVAILABLE = new Throwable("available");

  private final TransportContext context;
  private final String provider;
  private final String node;
  private final long idleParkNanos;
  private final long stallNanos;
  private final int sliceBytes;
  private final Rail[] rails;

  FabricTransport(TransportContext context) {
    this.context = context;
    this.provider = context.option("fabric.provider", "tcp;ofi_rxm");
    this.node = context.option("fabric.node", null);
    this.idleParkNanos = Long.parseLong(context.option("fabric.idleParkNanos", "20000"));
    this.stallNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(context.option("fabric.stallMillis", "3000")));
    this.sliceBytes = sliceBytes(context.option("fabric.sliceBytes", null), provider);
    boolean reapShm = reapStaleShm(context.option("fabric.shmReapStale", null));
    Throwable cause = probe(provider);
    if (cause != null) {
      throw new TransportUnavailableException(
          "fabric transport: provider '" + provider + "' unavailable: " + cause.getMessage(), cause);
    }
    if (reapShm && "shm".equals(provider)) {
      ShmRegions.reapStale(java.nio.file.Path.of("/dev/shm"));
    }
    this.rails = new Rail[context.rails()];
    boolean ok = false;
    try {
      for (int i = 0; i < rails.length; i++) {
        rails[i] = new Rail(i);
      }
      ok = true;
    } finally {
      if (!ok) {
        close();
      }
    }
  }

  /** Null when {@code provider} offers RDM endpoints with RMA, else why not (kept per provider). */
  static Throwable probe(String provider) {
    Throwable t = PROBES.computeIfAbsent(provider, p -> {
      try {
        Pointer info = getinfo(p, null);
        api().fi_freeinfo(info);
        return AVAILABLE;
      } catch (RuntimeException e) {
        return e;
      }
    });
    return t == AVAILABLE ? null : t;
  }

  static Pointer getinfo(String provider, String node) {
    Pointer hints = api().fi_dupinfo(null);
    if (hints == null) {
      throw new TransferException("fi_dupinfo(NULL) failed: out of memory");
    }
    try {
      hints.setLong(INFO_CAPS, FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE);
      hints.setLong(INFO_MODE, FI_CONTEXT | FI_CONTEXT2);
      hints.getPointer(INFO_EP_ATTR).setInt(EP_ATTR_TYPE, FI_EP_RDM);
      hints.getPointer(INFO_DOMAIN_ATTR).setInt(DOMAIN_ATTR_MR_MODE,
          FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY);
      hints.getPointer(INFO_TX_ATTR).setLong(TX_ATTR_OP_FLAGS, FI_DELIVERY_COMPLETE);
      hints.getPointer(INFO_FABRIC_ATTR).setPointer(FABRIC_ATTR_PROV_NAME, strdup(provider));
      PointerByReference out = new PointerByReference();
      int rc = keepingJvmSignalHandlers(
          () -> api().fi_getinfo(FI_VERSION_1_17, node, null, node == null ? 0 : FI_SOURCE, hints, out));
      if (rc != 0) {
        throw new TransferException("fi_getinfo(provider=" + provider + ", node=" + node
            + ", FI_EP_RDM, FI_RMA, FI_DELIVERY_COMPLETE) failed: " + error(rc));
      }
      return out.getValue();
    } finally {
      api().fi_freeinfo(hints);
    }
  }

  @Override
  public String name() {
    return FabricTransportProvider.NAME;
  }

  @Override
  public int rails() {
    return rails.length;
  }

  /** {@code fabric.sliceBytes}, else {@link #SHM_SLICE_BYTES} on {@code shm}, else {@link #DEFAULT_SLICE_BYTES}. */
  @Override
  public int preferredSliceBytes() {
    return sliceBytes;
  }

  /**
   * Parses {@code fabric.shmReapStale}: unset or {@code true} removes the {@code /dev/shm} regions of
   * dead processes when a {@code shm} transport starts ({@link ShmRegions}); {@code false} leaves them.
   */
  static boolean reapStaleShm(String value) {
    if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("true")) {
      return true;
    }
    if (value.trim().equalsIgnoreCase("false")) {
      return false;
    }
    throw new IllegalArgumentException("fabric.shmReapStale must be true or false, got '" + value + "'");
  }

  /** Slice size when {@code fabric.sliceBytes} is not set and the provider is not {@code shm}. */
  static final int DEFAULT_SLICE_BYTES = 64 << 10;

  /**
   * Slice size on {@code shm} when {@code fabric.sliceBytes} is not set: 1 MiB, so that a READ
   * (served by shm 1.17 through its bounce buffers, one such operation at a time per endpoint and
   * peer) moves 32 bounce buffers per hand-over instead of 2; see the class comment.
   */
  static final int SHM_SLICE_BYTES = 1 << 20;

  /**
   * Parses {@code fabric.sliceBytes} (4096 to 2^30 bytes); {@code null} or blank: the provider's
   * default ({@link #SHM_SLICE_BYTES} for {@code shm}, else {@link #DEFAULT_SLICE_BYTES}).
   */
  static int sliceBytes(String value, String provider) {
    if (value == null || value.isBlank()) {
      return "shm".equals(provider) ? SHM_SLICE_BYTES : DEFAULT_SLICE_BYTES;
    }
    long v;
    try {
      v = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("fabric.sliceBytes must be a number of bytes, got '" + value + "'");
    }
    if (v < 4096 || v > (1 << 30)) {
      throw new IllegalArgumentException("fabric.sliceBytes must be 4096..2^30 bytes, got " + v);
    }
    return (int) v;
  }

  @Override
  public MemoryRegistration register(String segmentName, long key, long address, long length) {
    Registration reg = new Registration(rails.length);
    boolean ok = false;
    try {
      for (Rail r : rails) {
        r.register(reg, key, address, length);
      }
      ok = true;
      return reg;
    } finally {
      if (!ok) {
        reg.close();
      }
    }
  }

  @Override
  public CompletableFuture<Void> submit(int rail, SliceOp slice) {
    return rails[rail].submit(slice);
  }

  @Override
  public void closeRail(int rail) {
    rails[rail].close();
  }

  @Override
  public void close() {
    for (Rail r : rails) {
      if (r != null) {
        r.close();
      }
    }
  }

  private static boolean isAccessError(int err) {
    // EPERM, EACCES, EFAULT, EINVAL, EKEYREJECTED, FI_ENOKEY
    return err == 1 || err == 13 || err == 14 || err == 22 || err == 129 || err == 266;
  }

  /**
   * Whether a completion error means the target refused the access (bad key, range outside the
   * region). Providers differ: verbs and efa report access errors directly; tcp;ofi_rxm 1.17 reports
   * a key or range the target's MR map rejects as FI_ECANCELED with prov_errno ENOENT (its failed
   * lookup), while a broken connection gives other codes.
   */
  private static boolean isConnectionError(int err) {
    // EPIPE, ECONNABORTED, ECONNRESET, ENOTCONN, ECONNREFUSED
    return err == 32 || err == 103 || err == 104 || err == 107 || err == 111;
  }

  private static boolean isRefusal(int err, int provErr) {
    return isAccessError(err) || (err == 125 && provErr == 2);
  }

  /** A segment's regions, one per rail. */
  private final class Registration implements MemoryRegistration {
    final Pointer[] mrs;
    final Pointer[] descs;
    final RailEndpoint[] endpoints;
    boolean closed;

    Registration(int n) {
      mrs = new Pointer[n];
      descs = new Pointer[n];
      endpoints = new RailEndpoint[n];
    }

    @Override
    public List<RailEndpoint> endpoints() {
      return List.of(endpoints);
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      for (int i = 0; i < mrs.length; i++) {
        if (mrs[i] != null && rails[i] != null) {
          rails[i].deregister(mrs[i]);
        }
      }
    }
  }

  /** One slice on a rail. */
  private static final class Op {
    final SliceOp slice;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    final long queuedNanos = System.nanoTime();
    int slot = -1;
    long fiAddr;
    long postedNanos;
    boolean abandoned;
    int attempts;
    long firstTryNanos;
    long notBeforeNanos;

    Op(SliceOp slice) {
      this.slice = slice;
    }
  }

  private final class Rail implements Runnable {
    static final int CONTEXT_BYTES = 64;
    static final int CQ_BATCH = 32;

    final int index;
    final int maxOutstanding;
    final Pointer info;
    final boolean virtAddr;
    Pointer fabric;
    Pointer domain;
    Pointer cq;
    Pointer av;
    Pointer ep;
    byte[] name;
    final Memory contexts;
    final Op[] slots;
    final int[] freeSlots;
    int freeCount;
    final Memory cqBuf = zeroed(CQ_BATCH * 8L);
    final Memory errBuf = zeroed(CQ_ERR_ENTRY_SIZE);
    final Memory strBuf = zeroed(256);
    final Map<ByteBuffer, Long> peers = new HashMap<>();
    final Set<Pointer> liveMrs = new HashSet<>();
    final ArrayDeque<Op> toPost = new ArrayDeque<>();
    final ArrayDeque<Op> delayed = new ArrayDeque<>();
    final ConcurrentLinkedQueue<Op> submitted = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    final Thread thread;
    long lastStallCheck;
    volatile boolean closing;
    volatile boolean closed;

    Rail(int index) {
      this.index = index;
      this.info = getinfo(provider, node);
      boolean ok = false;
      try {
        int mrMode = info.getPointer(INFO_DOMAIN_ATTR).getInt(DOMAIN_ATTR_MR_MODE);
        if ((mrMode & FI_MR_ENDPOINT) != 0) {
          throw new TransportUnavailableException("fabric provider '" + provider
              + "' needs FI_MR_ENDPOINT, which this transport does not implement", null);
        }
        this.virtAddr = (mrMode & FI_MR_VIRT_ADDR) != 0;
        long txSize = info.getPointer(INFO_TX_ATTR).getLong(TX_ATTR_SIZE);
        this.maxOutstanding = (int) Math.max(1, Math.min(128, txSize));
        this.contexts = zeroed((long) maxOutstanding * CONTEXT_BYTES);
        this.slots = new Op[maxOutstanding];
        this.freeSlots = new int[maxOutstanding];
        for (int i = 0; i < maxOutstanding; i++) {
          freeSlots[freeCount++] = maxOutstanding - 1 - i;
        }
        open();
        ok = true;
      } finally {
        if (!ok) {
          destroy();
        }
      }
      this.thread = new Thread(this, "rq-transfer-" + context.engineName() + "-fabric-r" + index);
      thread.setDaemon(true);
      thread.start();
    }

    private void check(long rc, String call) {
      if (rc < 0) {
        throw new TransferException("fabric rail " + index + " (" + provider + "): " + call + " failed: " + error(rc));
      }
    }

    private void open() {
      PointerByReference out = new PointerByReference();
      check(keepingJvmSignalHandlers(() -> api().fi_fabric(info.getPointer(INFO_FABRIC_ATTR), out, null)), "fi_fabric");
      fabric = out.getValue();
      check(keepingJvmSignalHandlers(
          () -> fn(fabric, OBJ_OPS, FABRIC_DOMAIN).invokeInt(new Object[] {fabric, info, out, null})), "fi_domain");
      domain = out.getValue();
      Memory cqAttr = zeroed(CQ_ATTR_SIZE);
      cqAttr.setInt(CQ_ATTR_FORMAT, FI_CQ_FORMAT_CONTEXT);
      check(fn(domain, OBJ_OPS, DOMAIN_CQ_OPEN).invokeInt(new Object[] {domain, cqAttr, out, null}), "fi_cq_open");
      cq = out.getValue();
      Memory avAttr = zeroed(AV_ATTR_SIZE);
      check(fn(domain, OBJ_OPS, DOMAIN_AV_OPEN).invokeInt(new Object[] {domain, avAttr, out, null}), "fi_av_open");
      av = out.getValue();
      // shm takes over SIGSEGV/SIGBUS; the JVM's handlers are put back after each setup call (LibFabric).
      check(keepingJvmSignalHandlers(
          () -> fn(domain, OBJ_OPS, DOMAIN_ENDPOINT).invokeInt(new Object[] {domain, info, out, null})), "fi_endpoint");
      ep = out.getValue();
      check(fn(ep, FID_OPS, OPS_BIND).invokeInt(new Object[] {ep, cq, FI_TRANSMIT | FI_RECV}), "fi_ep_bind(cq)");
      check(fn(ep, FID_OPS, OPS_BIND).invokeInt(new Object[] {ep, av, 0L}), "fi_ep_bind(av)");
      check(fn(ep, FID_OPS, OPS_CONTROL).invokeInt(new Object[] {ep, FI_ENABLE, null}), "fi_enable");
      Memory addr = zeroed(1024);
      LongByReference len = new LongByReference(1024);
      check(fn(ep, EP_CM_OPS, CM_GETNAME).invokeInt(new Object[] {ep, addr, len.getPointer()}), "fi_getname");
      name = addr.getByteArray(0, (int) len.getValue());
    }

    /** Runs {@code task} on the rail thread and waits. */
    private <T> T call(Callable<T> task) {
      if (Thread.currentThread() == thread) {
        try {
          return task.call();
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new TransferException(e.getMessage(), e);
        }
      }
      CompletableFuture<T> f = new CompletableFuture<>();
      tasks.add(() -> {
        try {
          f.complete(task.call());
        } catch (Throwable t) {
          f.completeExceptionally(t);
        }
      });
      LockSupport.unpark(thread);
      if (!thread.isAlive()) {
        // The loop has ended (closed is set): tasks see that and touch no fabric object.
        for (Runnable t; (t = tasks.poll()) != null; ) {
          t.run();
        }
      }
      try {
        return f.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException re ? re : new TransferException(e.getMessage(), e);
      } catch (TimeoutException e) {
        throw new TransferException("fabric rail " + index + " did not answer within 30 s", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TransferException("interrupted", e);
      }
    }

    void register(Registration reg, long key, long address, long length) {
      if (closing) {
        reg.endpoints[index] = new RailEndpoint(name, key, 0);
        return;
      }
      call(() -> {
        if (closed) {
          reg.endpoints[index] = new RailEndpoint(name, key, 0);
          return null;
        }
        PointerByReference mr = new PointerByReference();
        int rc = fn(domain, DOMAIN_MR_OPS, MR_REG).invokeInt(new Object[] {domain, new Pointer(address), length,
            FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE, 0L, key, 0L, mr, null});
        check(rc, "fi_mr_reg(" + length + " bytes)");
        Pointer m = mr.getValue();
        liveMrs.add(m);
        reg.mrs[index] = m;
        reg.descs[index] = m.getPointer(MR_DESC);
        reg.endpoints[index] = new RailEndpoint(name, m.getLong(MR_KEY), virtAddr ? address : 0);
        return null;
      });
    }

    void deregister(Pointer mr) {
      if (closed) {
        return;
      }
      try {
        call(() -> {
          if (liveMrs.remove(mr)) {
            LibFabric.close(mr);
          }
          return null;
        });
      } catch (TransferException e) {
        if (!closed) {
          throw e;
        }
      }
    }

    CompletableFuture<Void> submit(SliceOp slice) {
      Op op = new Op(slice);
      if (closing) {
        op.future.completeExceptionally(new RailFailedException(index, "fabric rail closed", null));
        return op.future;
      }
      submitted.add(op);
      LockSupport.unpark(thread);
      if (closed && submitted.remove(op)) {
        op.future.completeExceptionally(new RailFailedException(index, "fabric rail closed", null));
      }
      return op.future;
    }

    /**
     * A peer whose endpoint vanished without the provider noticing (tcp;ofi_rxm keeps such operations
     * pending forever) would hold slices for good. Operations older than {@code fabric.stallMillis}
     * fail with {@link RailFailedException}, together with every other one to the same peer, so the
     * engine retries them on other rails. Their context slots stay taken until the provider reports
     * them or the rail closes; until then the provider may still complete them late (a late READ
     * writes the same remote bytes again).
     */
    private void abandonStalled(long now) {
      // Slices that never got a context slot (every slot held by operations the provider does not
      // complete) fail too, or they would wait for good.
      for (ArrayDeque<Op> q : List.of(toPost, delayed)) {
        for (int i = q.size(); i > 0; i--) {
          Op op = q.pollFirst();
          if (now - op.queuedNanos > stallNanos && op.firstTryNanos == 0 && op.attempts == 0) {
            op.future.completeExceptionally(new RailFailedException(index, "no operation slot free for "
                + TimeUnit.NANOSECONDS.toMillis(stallNanos) + " ms (fabric.stallMillis): the provider is not"
                + " completing operations", null));
          } else {
            q.addLast(op);
          }
        }
      }
      long stalledPeer = -1;
      for (Op op : slots) {
        if (op != null && !op.abandoned && now - op.postedNanos > stallNanos) {
          stalledPeer = op.fiAddr;
          break;
        }
      }
      if (stalledPeer < 0) {
        return;
      }
      for (Op op : slots) {
        if (op != null && !op.abandoned && op.fiAddr == stalledPeer) {
          op.abandoned = true;
          op.future.completeExceptionally(new RailFailedException(index, "no completion from peer endpoint "
              + java.util.HexFormat.of().formatHex(op.slice.remote().rails().get(index % op.slice.remote().rails().size()).address())
              + " for " + TimeUnit.NANOSECONDS.toMillis(stallNanos) + " ms (fabric.stallMillis); peer rail presumed dead", null));
        }
      }
    }

    @Override
    public void run() {
      int idle = 0;
      try {
        while (!closing) {
          boolean busy = false;
          for (Runnable t; (t = tasks.poll()) != null; ) {
            t.run();
            busy = true;
          }
          for (Op op; (op = submitted.poll()) != null; ) {
            toPost.addLast(op);
          }
          busy |= post();
          busy |= poll();
          long now = System.nanoTime();
          if (now - lastStallCheck > 50_000_000L) {
            lastStallCheck = now;
            abandonStalled(now);
          }
          if (busy) {
            idle = 0;
          } else if (freeCount < maxOutstanding || !toPost.isEmpty() || !delayed.isEmpty()) {
            Thread.yield();
          } else if (++idle > 64) {
            LockSupport.parkNanos(idleParkNanos);
          } else {
            Thread.onSpinWait();
          }
        }
      } catch (Throwable t) {
        failAll(new RailFailedException(index, "fabric progress failed: " + t, t));
      } finally {
        closed = true;
        failAll(new RailFailedException(index, "fabric rail closed", null));
        for (Runnable t; (t = tasks.poll()) != null; ) {
          t.run();
        }
        destroy();
      }
    }

    /** Posts queued slices while context slots last; false if nothing was posted. */
    private boolean post() {
      boolean any = false;
      if (!delayed.isEmpty()) {
        long now = System.nanoTime();
        for (int i = delayed.size(); i > 0; i--) {
          Op op = delayed.pollFirst();
          if (now - op.notBeforeNanos >= 0) {
            toPost.addFirst(op);
          } else {
            delayed.addLast(op);
          }
        }
      }
      while (!toPost.isEmpty() && freeCount > 0) {
        Op op = toPost.peekFirst();
        if (op.future.isDone()) {
          toPost.pollFirst();
          continue;
        }
        SliceOp s = op.slice;
        RailEndpoint remote = s.remote().rails().get(index % s.remote().rails().size());
        long fiAddr;
        try {
          fiAddr = resolve(remote.address());
        } catch (RuntimeException e) {
          toPost.pollFirst();
          op.future.completeExceptionally(new RailFailedException(index, e.getMessage(), e));
          continue;
        }
        int slot = freeSlots[freeCount - 1];
        Pointer ctx = contexts.share((long) slot * CONTEXT_BYTES);
        Pointer desc = ((Registration) s.local()).descs[index];
        long rc = fn(ep, EP_RMA_OPS, s.op() == TransferOp.WRITE ? RMA_WRITE : RMA_READ).invokeLong(new Object[] {
            ep, new Pointer(s.localAddress()), (long) s.length(), desc, fiAddr,
            remote.baseAddress() + s.remoteOffset(), remote.key(), ctx});
        if (rc == -FI_EAGAIN) {
          long now = System.nanoTime();
          if (op.firstTryNanos == 0) {
            op.firstTryNanos = now;
          } else if (now - op.firstTryNanos > stallNanos) {
            // The peer does not take operations: fail every queued one for it, not one per stall period.
            RailFailedException e = new RailFailedException(index, "peer endpoint unreachable: fi_"
                + s.op().name().toLowerCase() + " returned -FI_EAGAIN for "
                + TimeUnit.NANOSECONDS.toMillis(stallNanos) + " ms (fabric.stallMillis)", null);
            for (int i = toPost.size(); i > 0; i--) {
              Op q = toPost.pollFirst();
              RailEndpoint qr = q.slice.remote().rails().get(index % q.slice.remote().rails().size());
              if (java.util.Arrays.equals(qr.address(), remote.address())) {
                q.future.completeExceptionally(e);
              } else {
                toPost.addLast(q);
              }
            }
            continue;
          }
          poll();
          return any;
        }
        toPost.pollFirst();
        if (rc < 0) {
          int err = (int) -rc;
          String msg = "fi_" + s.op().name().toLowerCase() + " to segment '" + s.remote().name() + "' offset "
              + s.remoteOffset() + " length " + s.length() + " failed: " + error(rc);
          op.future.completeExceptionally(isAccessError(err)
              ? new TransferRefusedException(msg) : new RailFailedException(index, msg, null));
          continue;
        }
        freeCount--;
        op.slot = slot;
        op.fiAddr = fiAddr;
        op.postedNanos = System.nanoTime();
        slots[slot] = op;
        any = true;
      }
      return any;
    }

    private long resolve(byte[] address) {
      ByteBuffer k = ByteBuffer.wrap(address);
      Long a = peers.get(k);
      if (a != null) {
        return a;
      }
      Memory addr = zeroed(address.length);
      addr.write(0, address, 0, address.length);
      LongByReference out = new LongByReference();
      int rc = fn(av, OBJ_OPS, AV_INSERT).invokeInt(new Object[] {av, addr, 1L, out.getPointer(), 0L, null});
      if (rc != 1) {
        throw new TransferException("fi_av_insert of peer address failed: " + (rc < 0 ? error(rc) : rc + " inserted"));
      }
      peers.put(k, out.getValue());
      return out.getValue();
    }

    /** Reads completions; false if there were none. */
    private boolean poll() {
      long rc = fn(cq, OBJ_OPS, CQ_READ).invokeLong(new Object[] {cq, cqBuf, (long) CQ_BATCH});
      if (rc > 0) {
        for (int i = 0; i < rc; i++) {
          Op op = take(cqBuf.getPointer(i * 8L));
          if (op != null) {
            op.future.complete(null);
          }
        }
        return true;
      }
      if (rc == -FI_EAGAIN) {
        return false;
      }
      if (rc == -FI_EAVAIL) {
        errBuf.clear();
        long r = fn(cq, OBJ_OPS, CQ_READERR).invokeLong(new Object[] {cq, errBuf, 0L});
        if (r < 0) {
          throw new TransferException("fi_cq_readerr failed: " + error(r));
        }
        Op op = take(errBuf.getPointer(CQ_ERR_OP_CONTEXT));
        int err = errBuf.getInt(CQ_ERR_ERR);
        int provErr = errBuf.getInt(CQ_ERR_PROV_ERRNO);
        String provMsg;
        try {
          Pointer s = fn(cq, OBJ_OPS, CQ_STRERROR).invokePointer(new Object[] {
              cq, provErr, errBuf.getPointer(CQ_ERR_DATA), strBuf, 256L});
          provMsg = s == null ? "" : s.getString(0);
        } catch (RuntimeException e) {
          provMsg = "";
        }
        if (op != null && isConnectionError(err) && ++op.attempts <= 6) {
          // tcp;ofi_rxm tears a connection down after a refused access and fails the other operations
          // on it; rxm reconnects on a later post, so post again (1, 4, 16 ... ms later) before
          // calling the rail broken.
          op.notBeforeNanos = System.nanoTime() + (1L << (2 * op.attempts - 2)) * 1_000_000L;
          delayed.addLast(op);
          return true;
        }
        if (op != null) {
          SliceOp s = op.slice;
          String msg = s.op() + " of " + s.length() + " bytes at offset " + s.remoteOffset() + " of segment '"
              + s.remote().name() + "' (" + s.remote().length() + " bytes) failed: " + api().fi_strerror(err)
              + " (" + err + "), provider " + provider + ": " + provMsg + " (" + provErr + ")";
          op.future.completeExceptionally(isRefusal(err, provErr)
              ? new TransferRefusedException("fabric target refused " + msg)
              : new RailFailedException(index, msg, null));
        }
        return true;
      }
      throw new TransferException("fi_cq_read failed: " + error(rc));
    }

    private Op take(Pointer ctx) {
      long off = Pointer.nativeValue(ctx) - Pointer.nativeValue(contexts);
      if (off < 0 || off >= (long) maxOutstanding * CONTEXT_BYTES || off % CONTEXT_BYTES != 0) {
        return null;
      }
      int slot = (int) (off / CONTEXT_BYTES);
      Op op = slots[slot];
      if (op == null) {
        return null;
      }
      slots[slot] = null;
      freeSlots[freeCount++] = slot;
      return op.abandoned ? null : op;
    }

    private void failAll(RailFailedException e) {
      for (int i = 0; i < slots.length; i++) {
        if (slots[i] != null && !slots[i].abandoned) {
          slots[i].future.completeExceptionally(e);
        }
      }
      for (Op op; (op = toPost.poll()) != null; ) {
        op.future.completeExceptionally(e);
      }
      for (Op op; (op = delayed.poll()) != null; ) {
        op.future.completeExceptionally(e);
      }
      for (Op op; (op = submitted.poll()) != null; ) {
        op.future.completeExceptionally(e);
      }
    }

    /** Closes every fabric object of the rail; on the rail thread after the loop, or in the constructor. */
    private void destroy() {
      List<String> errors = new ArrayList<>();
      closeFid(ep, "endpoint", errors);
      ep = null;
      for (Pointer mr : liveMrs) {
        closeFid(mr, "memory region", errors);
      }
      liveMrs.clear();
      closeFid(av, "av", errors);
      av = null;
      closeFid(cq, "cq", errors);
      cq = null;
      closeFid(domain, "domain", errors);
      domain = null;
      closeFid(fabric, "fabric", errors);
      fabric = null;
      if (info != null) {
        api().fi_freeinfo(info);
      }
    }

    private void closeFid(Pointer fid, String what, List<String> errors) {
      if (fid != null) {
        int rc = LibFabric.close(fid);
        if (rc != 0) {
          errors.add(what + ": " + error(rc));
        }
      }
    }

    void close() {
      closing = true;
      LockSupport.unpark(thread);
      if (thread != null && Thread.currentThread() != thread) {
        try {
          thread.join(10_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
