package io.runicquanta.master;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.InternalClientCalls;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.master.proto.Endpoint;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.MasterServiceGrpc;
import io.runicquanta.master.proto.MountSegmentRequest;
import io.runicquanta.master.proto.PutEndRequest;
import io.runicquanta.master.proto.PutRevokeRequest;
import io.runicquanta.master.proto.PutStartRequest;
import io.runicquanta.master.proto.Redundancy;
import io.runicquanta.master.proto.RemoveRequest;
import io.runicquanta.master.proto.Segment;
import io.runicquanta.master.proto.UnmountSegmentRequest;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;

/**
 * Client of the master's gRPC API that finds the master through the grid and follows it when it
 * moves to another node.
 *
 * <p>{@link #connect(Ignite, Duration)} reads the master's address from the {@value
 * MasterCaches#ADDRESS} cache (waiting for it to appear). {@link #call(Function)} runs a call on
 * the blocking stub; if it fails with UNAVAILABLE (the master's node died or the master is moving),
 * or the connection breaks under a call (UNKNOWN "channel closed"), the client re-reads the address,
 * reconnects and retries until the failover timeout passes. A
 * retried call may already have taken effect on the old master: a retried PutStart can then answer
 * ALREADY_EXISTS, a retried Remove NOT_FOUND.
 *
 * <p>Thread safe; one instance serves many threads. It holds several channels (each its own
 * HTTP/2 connection) to the master and spreads calls over them round robin. On one connection
 * every call of every thread is read, run (the master's handlers run on the transport thread) and
 * answered by one server event loop thread and one client event loop thread; with several
 * connections the server's and the client's event loops can share the work. On the 2-core test
 * machine (CPU saturated by other work) 4 connections made no measurable difference to
 * GetReplicaList latency, so the default stays 1 (master-bridge/README.md). The number is {@value #CHANNELS_PROPERTY} (system
 * property) or {@link #defaultChannels()}; failover replaces all of them at once. Close the client
 * to release them. Errors reach the caller as {@link StatusRuntimeException} with the master's
 * status code and message.
 *
 * <p><b>The call path</b> (CPU per call matters: on the 2-core test machine 16 calling threads
 * saturate the box, and the client JVM used 2 to 4 times the master's CPU per GetReplicaList;
 * master-bridge/README.md). Each connection's blocking stub is built once, on the channel wrapped
 * by {@link FastBlocking}; a call allocates no stub and no {@code Deadline}:
 *
 * <ul>
 *   <li><b>Deadline without timers.</b> A per-call {@code withDeadlineAfter} stub scheduled a timer
 *       on the client's event loop and sent a {@code grpc-timeout} header, for which the server
 *       scheduled a second timer; both were cancelled again on every answer. Instead every call
 *       without a deadline of its own is put in one set of calls in flight, and a single daemon
 *       thread ({@value #WATCHDOG_NAME}, shared by all clients, ticking every {@value #TICK_MS} ms)
 *       cancels those older than the call timeout ({@link #CALL_TIMEOUT_PROPERTY}, default 30 s);
 *       such a call fails with DEADLINE_EXCEEDED naming the timeout, as before. A stub given its own
 *       deadline ({@code s.withDeadlineAfter(..)}) keeps gRPC's.
 *   <li><b>One wake-up per call.</b> gRPC's blocking stub runs the call's callbacks (headers,
 *       message, close) on the calling thread, each handed over from the event loop through its
 *       own queue, and the caller can be woken once per callback. For blocking stubs the callbacks
 *       here run on the event loop instead (they only parse the response and complete a future),
 *       and the caller is woken once, after the close.
 *   <li><b>No gRPC retry layer.</b> The channel is built with {@code disableRetry()}: gRPC's
 *       retry support wraps every call in a retriable stream that buffers it; this client does its
 *       own retries (UNAVAILABLE, broken connection) across master moves.
 * </ul>
 *
 * <p>The transport is gRPC's default (Netty on NIO). Netty's native epoll transport on both ends
 * (explicit event loop groups, branch master-tail, commit 3f4b295) was measured against NIO with
 * the same jar and taken back: CPU per GetReplicaList of the transport threads (client 7 to 15 us,
 * master 7 to 8) and the latencies did not move beyond the run-to-run spread
 * (master-bridge/README.md, "Native epoll transport").
 */
public final class MasterClient implements AutoCloseable {
  /** System property: how many connections a client opens to the master (1 to 64). */
  public static final String CHANNELS_PROPERTY = "rq.master.clientChannels";
  /** System property: a call's timeout in milliseconds when its stub has no deadline (30000). */
  public static final String CALL_TIMEOUT_PROPERTY = "rq.master.callTimeoutMs";
  static final String WATCHDOG_NAME = "rq-master-client-deadlines";
  static final long TICK_MS = 100;
  /** Calls in flight without a deadline of their own, of every client; see the class comment. */
  private static final Set<Watched<?, ?>> INFLIGHT = ConcurrentHashMap.newKeySet();
  private static final Runnable WAKE = () -> {};
  private static Thread watchdog;

  private final Supplier<MasterAddress> resolver;
  private final long failoverNanos;
  private final long callTimeoutMillis;
  private final int channels;
  private final AtomicInteger next = new AtomicInteger();
  private volatile Conn conn;
  private volatile boolean closed;

  private record Conn(MasterAddress address, ManagedChannel[] channels,
      MasterServiceGrpc.MasterServiceBlockingStub[] stubs) {}

  private MasterClient(Supplier<MasterAddress> resolver, MasterAddress first, Duration failover,
      int channels, long callTimeoutMillis) {
    if (channels < 1 || channels > 64) {
      throw new IllegalArgumentException(
          "MasterClient channels must be 1 to 64, got " + channels);
    }
    if (callTimeoutMillis < 1) {
      throw new IllegalArgumentException(
          "MasterClient call timeout must be at least 1 ms, got " + callTimeoutMillis + " ms");
    }
    this.resolver = resolver;
    this.failoverNanos = failover.toNanos();
    this.callTimeoutMillis = callTimeoutMillis;
    this.channels = channels;
    this.conn = open(first, channels);
  }

  /**
   * @return the call timeout when not told: the system property {@value #CALL_TIMEOUT_PROPERTY}
   *     if set, else 30,000 ms
   * @throws IllegalArgumentException if the property is not a positive number
   */
  public static long defaultCallTimeoutMillis() {
    return longProperty(CALL_TIMEOUT_PROPERTY, 30_000, 1, Long.MAX_VALUE, "a positive number of milliseconds");
  }

  /**
   * The system property {@code name} as a number from {@code min} to {@code max}, {@code dflt} when
   * unset or blank; otherwise an {@link IllegalArgumentException} naming the property, what it must
   * be ({@code what}) and the value given.
   */
  static long longProperty(String name, long dflt, long min, long max, String what) {
    String v = System.getProperty(name);
    if (v == null || v.isBlank()) {
      return dflt;
    }
    long n;
    try {
      n = Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("system property " + name + " must be " + what + ", got '" + v + "'");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException("system property " + name + " must be " + what + ", got " + n);
    }
    return n;
  }

  /**
   * @return the number of connections a client opens when not told: the system property
   *     {@value #CHANNELS_PROPERTY} if set, else 1 (several connections showed no gain in the
   *     benchmark on the 2-core test machine; master-bridge/README.md)
   * @throws IllegalArgumentException if the property is not a number from 1 to 64
   */
  public static int defaultChannels() {
    return (int) longProperty(CHANNELS_PROPERTY, 1, 1, 64, "a number from 1 to 64");
  }

  /**
   * Connects to the master of the grid {@code ignite} belongs to.
   *
   * @param ignite a started node (client or server) of the grid
   * @param failoverTimeout how long to wait for the master's address at first, and for a new master
   *     after the current one becomes unreachable
   * @return a connected client; the caller must close it
   * @throws IllegalStateException if no master address appears within {@code failoverTimeout}
   */
  public static MasterClient connect(Ignite ignite, Duration failoverTimeout) {
    return connect(ignite, failoverTimeout, defaultChannels());
  }

  /**
   * Connects to the master of the grid {@code ignite} belongs to over {@code channels} connections.
   *
   * @param ignite a started node (client or server) of the grid
   * @param failoverTimeout as {@link #connect(Ignite, Duration)}
   * @param channels connections to open, 1 to 64
   * @return a connected client; the caller must close it
   * @throws IllegalStateException if no master address appears within {@code failoverTimeout}
   * @throws IllegalArgumentException if {@code channels} is out of range
   */
  public static MasterClient connect(Ignite ignite, Duration failoverTimeout, int channels) {
    if (channels < 1 || channels > 64) {
      throw new IllegalArgumentException(
          "MasterClient channels must be 1 to 64, got " + channels);
    }
    IgniteCache<String, MasterAddress> cache = MasterCaches.address(ignite);
    Supplier<MasterAddress> resolver = () -> cache.get(MasterCaches.ADDRESS_KEY);
    long deadline = System.nanoTime() + failoverTimeout.toNanos();
    MasterAddress a;
    while ((a = resolver.get()) == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no master address published in cache " + MasterCaches.ADDRESS + " after "
                + failoverTimeout.toMillis() + " ms; is the master service deployed on a server node?");
      }
      sleep(50);
    }
    return new MasterClient(resolver, a, failoverTimeout, channels, defaultCallTimeoutMillis());
  }

  /**
   * Connects to a master at a fixed address, without failover.
   *
   * @param host host
   * @param port port
   * @return a client; the caller must close it
   */
  public static MasterClient connect(String host, int port) {
    return connect(host, port, defaultChannels());
  }

  /**
   * Connects to a master at a fixed address over {@code channels} connections, without failover.
   *
   * @param host host
   * @param port port
   * @param channels connections to open, 1 to 64
   * @return a client; the caller must close it
   * @throws IllegalArgumentException if {@code channels} is out of range
   */
  public static MasterClient connect(String host, int port, int channels) {
    return connect(host, port, channels, Duration.ofMillis(defaultCallTimeoutMillis()));
  }

  /**
   * Connects to a master at a fixed address, without failover, with a given call timeout.
   *
   * @param host host
   * @param port port
   * @param channels connections to open, 1 to 64
   * @param callTimeout how long a call waits for its answer before it fails with DEADLINE_EXCEEDED
   *     (checked every {@value #TICK_MS} ms, so it may wait up to that much longer)
   * @return a client; the caller must close it
   * @throws IllegalArgumentException if {@code channels} is out of range or the timeout is under
   *     1 ms
   */
  public static MasterClient connect(String host, int port, int channels, Duration callTimeout) {
    return new MasterClient(
        null, new MasterAddress(host, port, "", 0, 0), Duration.ZERO, channels, callTimeout.toMillis());
  }

  private Conn open(MasterAddress a, int n) {
    ManagedChannel[] chs = new ManagedChannel[n];
    MasterServiceGrpc.MasterServiceBlockingStub[] stubs =
        new MasterServiceGrpc.MasterServiceBlockingStub[n];
    FastBlocking fast = new FastBlocking(TimeUnit.MILLISECONDS.toNanos(callTimeoutMillis));
    for (int i = 0; i < n; i++) {
      chs[i] =
          NettyChannelBuilder.forAddress(a.host(), a.port())
              .usePlaintext()
              .maxInboundMessageSize(64 << 20)
              .disableRetry()
              .build();
      stubs[i] = MasterServiceGrpc.newBlockingStub(ClientInterceptors.intercept(chs[i], fast));
    }
    return new Conn(a, chs, stubs);
  }

  /** @return the number of connections this client spreads its calls over */
  public int channels() {
    return channels;
  }

  private MasterServiceGrpc.MasterServiceBlockingStub pick(Conn c) {
    MasterServiceGrpc.MasterServiceBlockingStub[] s = c.stubs();
    return s.length == 1 ? s[0] : s[(next.getAndIncrement() & Integer.MAX_VALUE) % s.length];
  }

  /** @return the address currently connected to */
  public MasterAddress address() {
    return conn.address();
  }

  /**
   * @return a blocking stub on one of the current connections (the next in turn), without failover
   *     (calls on it are not retried); its calls get the client's call timeout unless given a
   *     deadline of their own
   */
  public MasterServiceGrpc.MasterServiceBlockingStub stub() {
    return pick(conn);
  }

  /**
   * Runs a call, following the master to its new node on UNAVAILABLE.
   *
   * @param rpc the call, given a stub whose calls fail with DEADLINE_EXCEEDED after the call
   *     timeout (30 s unless set otherwise), unless the call sets its own deadline
   * @param <T> the response type
   * @return the response
   * @throws StatusRuntimeException the master's refusal, or UNAVAILABLE after the failover timeout
   * @throws IllegalStateException if the client is closed
   */
  public <T> T call(Function<MasterServiceGrpc.MasterServiceBlockingStub, T> rpc) {
    long deadline = System.nanoTime() + failoverNanos;
    while (true) {
      if (closed) {
        throw new IllegalStateException("MasterClient is closed");
      }
      Conn c = conn;
      try {
        return rpc.apply(pick(c));
      } catch (StatusRuntimeException e) {
        if (!transportFailure(e.getStatus())
            || resolver == null
            || System.nanoTime() > deadline) {
          throw e;
        }
        sleep(50);
        refresh(c);
      }
    }
  }

  /**
   * UNAVAILABLE, or UNKNOWN "channel closed" (what gRPC reports when the connection breaks under a
   * call that was already sent): the master's node is gone or going.
   */
  private static boolean transportFailure(Status s) {
    return s.getCode() == Status.Code.UNAVAILABLE
        || s.getCode() == Status.Code.UNKNOWN && "channel closed".equals(s.getDescription());
  }

  private synchronized void refresh(Conn failed) {
    if (conn != failed || closed) {
      return;
    }
    MasterAddress a;
    try {
      a = resolver.get();
    } catch (RuntimeException e) {
      return;
    }
    if (a == null || a.equals(failed.address())) {
      return;
    }
    conn = open(a, channels);
    for (ManagedChannel ch : failed.channels()) {
      ch.shutdownNow();
    }
  }

  /**
   * Mounts a segment.
   *
   * @param name segment name
   * @param nodeId id of the node offering it
   * @param failureDomain the node's failure domain, or "" for none
   * @param sizeBytes segment size
   * @param transport transport name
   * @param address transport address
   * @param remoteKey transport key, may be empty
   * @throws StatusRuntimeException ALREADY_EXISTS, INVALID_ARGUMENT
   */
  public void mountSegment(String name, String nodeId, String failureDomain, long sizeBytes,
      String transport, String address, byte[] remoteKey) {
    MountSegmentRequest req =
        MountSegmentRequest.newBuilder()
            .setSegment(
                Segment.newBuilder()
                    .setName(name)
                    .setNodeId(nodeId)
                    .setFailureDomain(failureDomain)
                    .setSize(sizeBytes)
                    .setEndpoint(
                        Endpoint.newBuilder()
                            .setTransport(transport)
                            .setAddress(address)
                            .setRemoteKey(ByteString.copyFrom(remoteKey))))
            .build();
    call(s -> s.mountSegment(req));
  }

  /**
   * @param name segment name
   * @throws StatusRuntimeException NOT_FOUND, FAILED_PRECONDITION (holds live shards)
   */
  public void unmountSegment(String name) {
    call(s -> s.unmountSegment(UnmountSegmentRequest.newBuilder().setSegmentName(name).build()));
  }

  /**
   * Starts a put with the default decode margin.
   *
   * @param key object key
   * @param sizeBytes object size
   * @param lossTolerance m
   * @param blockSizeBytes block size
   * @param symbolSize T
   * @return where to write the shards
   * @throws StatusRuntimeException INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION,
   *     RESOURCE_EXHAUSTED
   */
  public ObjectLayout putStart(
      String key, long sizeBytes, int lossTolerance, long blockSizeBytes, int symbolSize) {
    PutStartRequest req =
        PutStartRequest.newBuilder()
            .setKey(key)
            .setSize(sizeBytes)
            .setRedundancy(
                Redundancy.newBuilder()
                    .setLossTolerance(lossTolerance)
                    .setBlockSize(blockSizeBytes)
                    .setSymbolSize(symbolSize))
            .build();
    return LayoutProtos.fromProto(call(s -> s.putStart(req)).getReplica());
  }

  /**
   * Completes a put.
   *
   * @param key object key
   * @param shardCrc32c CRC32C of every shard in layout order
   * @throws StatusRuntimeException NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION
   */
  public void putEnd(String key, int[] shardCrc32c) {
    PutEndRequest.Builder b = PutEndRequest.newBuilder().setKey(key);
    for (int c : shardCrc32c) {
      b.addShardCrc32C(c);
    }
    PutEndRequest req = b.build();
    call(s -> s.putEnd(req));
  }

  /**
   * @param key object key
   * @throws StatusRuntimeException NOT_FOUND, FAILED_PRECONDITION (complete)
   */
  public void putRevoke(String key) {
    call(s -> s.putRevoke(PutRevokeRequest.newBuilder().setKey(key).build()));
  }

  /**
   * @param key object key
   * @return the layout of the complete object (with checksums); its space stays valid for the
   *     read lease
   * @throws StatusRuntimeException NOT_FOUND
   */
  public ObjectLayout getReplicaList(String key) {
    return LayoutProtos.fromProto(
        call(s -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build()))
            .getReplica());
  }

  /**
   * @param key object key
   * @return true if freeing the space waits for a read lease
   * @throws StatusRuntimeException NOT_FOUND, FAILED_PRECONDITION
   */
  public boolean remove(String key) {
    return call(s -> s.remove(RemoveRequest.newBuilder().setKey(key).build())).getSpaceDeferred();
  }

  @Override
  public void close() {
    closed = true;
    Conn c = conn;
    for (ManagedChannel ch : c.channels()) {
      ch.shutdown();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    try {
      for (ManagedChannel ch : c.channels()) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !ch.awaitTermination(left, TimeUnit.NANOSECONDS)) {
          ch.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      for (ManagedChannel ch : c.channels()) {
        ch.shutdownNow();
      }
      Thread.currentThread().interrupt();
    }
  }

  /** @return the number of calls in flight under the deadline watchdog, of all clients; for tests */
  static int watchedCalls() {
    return INFLIGHT.size();
  }

  private static synchronized void startWatchdog() {
    if (watchdog != null) {
      return;
    }
    Thread t = new Thread(() -> {
      while (true) {
        try {
          Thread.sleep(TICK_MS);
        } catch (InterruptedException e) {
          return;
        }
        long now = System.nanoTime();
        for (Watched<?, ?> w : INFLIGHT) {
          if (now - w.dueNanos >= 0) {
            w.expire();
          }
        }
      }
    }, WATCHDOG_NAME);
    t.setDaemon(true);
    t.start();
    watchdog = t;
  }

  /**
   * Wraps each call of a connection: blocking-stub calls get their callbacks on the transport's
   * thread and one wake-up of the caller at the end; calls without a deadline go under the
   * watchdog (class comment). A blocking-stub call is recognised by gRPC's stub-type call option,
   * read through {@link InternalClientCalls} (marked internal by gRPC; if it changes, this stops
   * compiling rather than misbehaving). Its executor is the waiting caller's queue: the callbacks
   * run directly instead, and one no-op handed to that queue after the close wakes the caller,
   * which then finds its answer complete. Async and future stubs, and streaming calls, keep their
   * executor.
   */
  private static final class FastBlocking implements ClientInterceptor {
    private final long timeoutNanos;

    FastBlocking(long timeoutNanos) {
      this.timeoutNanos = timeoutNanos;
      startWatchdog();
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      Executor waiter = null;
      CallOptions o = options;
      // unary only: a blocking server-streaming call's caller must be woken per message
      if (method.getType() == MethodDescriptor.MethodType.UNARY
          && options.getExecutor() != null
          && InternalClientCalls.getStubType(options) == InternalClientCalls.StubType.BLOCKING) {
        waiter = options.getExecutor();
        o = options.withExecutor(MoreExecutors.directExecutor());
      }
      if (options.getDeadline() != null && waiter == null) {
        return next.newCall(method, o);
      }
      long due = options.getDeadline() != null ? Long.MAX_VALUE : timeoutNanos;
      return new Watched<>(next.newCall(method, o), waiter, due, timeoutNanos);
    }
  }

  /** A call under the watchdog and/or with its caller woken once at the end. */
  private static final class Watched<Q, R> extends ForwardingClientCall.SimpleForwardingClientCall<Q, R> {
    final long dueNanos;
    private final long timeoutNanos;
    private final boolean watched;
    private final Executor waiter;
    private volatile boolean expired;

    Watched(ClientCall<Q, R> call, Executor waiter, long timeoutOrMax, long timeoutNanos) {
      super(call);
      this.waiter = waiter;
      this.watched = timeoutOrMax != Long.MAX_VALUE;
      this.timeoutNanos = timeoutNanos;
      this.dueNanos = watched ? System.nanoTime() + timeoutOrMax : 0;
    }

    void expire() {
      expired = true;
      INFLIGHT.remove(this);
      delegate().cancel("no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms", null);
    }

    @Override
    public void start(Listener<R> listener, Metadata headers) {
      if (watched) {
        INFLIGHT.add(this);
      }
      try {
        super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<R>(listener) {
          @Override
          public void onClose(Status status, Metadata trailers) {
            if (watched) {
              INFLIGHT.remove(Watched.this);
            }
            Status s = status;
            if (expired && status.getCode() == Status.Code.CANCELLED) {
              s = Status.DEADLINE_EXCEEDED.withDescription(
                  "MasterClient: the master did not answer within "
                      + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms (" + CALL_TIMEOUT_PROPERTY + ")");
            }
            try {
              super.onClose(s, trailers);
            } finally {
              if (waiter != null) {
                try {
                  waiter.execute(WAKE);
                } catch (RejectedExecutionException e) {
                  // the caller already saw its answer and stopped waiting
                }
              }
            }
          }
        }, headers);
      } catch (RuntimeException | Error e) {
        INFLIGHT.remove(this);
        throw e;
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the master", e);
    }
  }
}
