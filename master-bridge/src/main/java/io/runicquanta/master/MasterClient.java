package io.runicquanta.master;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
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
 */
public final class MasterClient implements AutoCloseable {
  /** System property: how many connections a client opens to the master (1 to 64). */
  public static final String CHANNELS_PROPERTY = "rq.master.clientChannels";

  private final Supplier<MasterAddress> resolver;
  private final long failoverNanos;
  private final long callTimeoutMillis;
  private final int channels;
  private final AtomicInteger next = new AtomicInteger();
  private volatile Conn conn;
  private volatile boolean closed;

  private record Conn(MasterAddress address, ManagedChannel[] channels,
      MasterServiceGrpc.MasterServiceBlockingStub[] stubs) {}

  private MasterClient(
      Supplier<MasterAddress> resolver, MasterAddress first, Duration failover, int channels) {
    if (channels < 1 || channels > 64) {
      throw new IllegalArgumentException(
          "MasterClient channels must be 1 to 64, got " + channels);
    }
    this.resolver = resolver;
    this.failoverNanos = failover.toNanos();
    this.callTimeoutMillis = 30_000;
    this.channels = channels;
    this.conn = open(first, channels);
  }

  /**
   * @return the number of connections a client opens when not told: the system property
   *     {@value #CHANNELS_PROPERTY} if set, else 1 (several connections showed no gain in the
   *     benchmark on the 2-core test machine; master-bridge/README.md)
   * @throws IllegalArgumentException if the property is not a number from 1 to 64
   */
  public static int defaultChannels() {
    String v = System.getProperty(CHANNELS_PROPERTY);
    if (v == null || v.isBlank()) {
      return 1;
    }
    int n;
    try {
      n = Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "system property " + CHANNELS_PROPERTY + " must be a number from 1 to 64, got '" + v + "'");
    }
    if (n < 1 || n > 64) {
      throw new IllegalArgumentException(
          "system property " + CHANNELS_PROPERTY + " must be a number from 1 to 64, got " + n);
    }
    return n;
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
    return new MasterClient(resolver, a, failoverTimeout, channels);
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
    return new MasterClient(null, new MasterAddress(host, port, "", 0, 0), Duration.ZERO, channels);
  }

  private static Conn open(MasterAddress a, int n) {
    ManagedChannel[] chs = new ManagedChannel[n];
    MasterServiceGrpc.MasterServiceBlockingStub[] stubs =
        new MasterServiceGrpc.MasterServiceBlockingStub[n];
    for (int i = 0; i < n; i++) {
      chs[i] =
          NettyChannelBuilder.forAddress(a.host(), a.port())
              .usePlaintext()
              .maxInboundMessageSize(64 << 20)
              .build();
      stubs[i] = MasterServiceGrpc.newBlockingStub(chs[i]);
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
   *     (calls on it are not retried)
   */
  public MasterServiceGrpc.MasterServiceBlockingStub stub() {
    return pick(conn);
  }

  /**
   * Runs a call, following the master to its new node on UNAVAILABLE.
   *
   * @param rpc the call, given a stub with a 30 s deadline
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
        return rpc.apply(pick(c).withDeadlineAfter(callTimeoutMillis, TimeUnit.MILLISECONDS));
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

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the master", e);
    }
  }
}
