package io.runicquanta.bench.master;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.runicquanta.master.MasterClient;
import io.runicquanta.master.proto.BlockPlacement;
import io.runicquanta.master.proto.BufHandle;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.GetReplicaListResponse;
import io.runicquanta.master.proto.MasterServiceGrpc;
import io.runicquanta.master.proto.ReplicaInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * CPU per GetReplicaList call on the client side of the master's gRPC path, without Ignite: a gRPC
 * server on loopback built like the master's (Netty, direct executor, one event loop) answers every
 * GetReplicaList with a placement of the benchmark's size (one block, three shards), and N client
 * threads call it in a closed loop through different client set-ups. Per set-up it prints calls/s,
 * p50 / p99 latency and the CPU time per call (thread CPU from {@link ThreadMXBean}) of the calling
 * threads, of the client's other threads (its transport) and of the server's threads.
 *
 * <p>The server's answer is canned (no master behind it) on purpose: this measures what a client
 * call costs, which the full {@link MasterBenchmark} can only see as a whole JVM's CPU. Set-ups:
 * {@code mc} is {@link MasterClient} as built ({@code call} with the blocking stub it hands out),
 * {@code mcapi} its {@code getReplicaList} (with the layout conversion); {@code raw-*} are plain
 * channels: {@code retry}/{@code noretry} (gRPC's retry machinery on or off), {@code dl}/{@code
 * nodl} (a stub with a 30 s deadline made per call, or one stub without a deadline).
 *
 * <p>Run: {@code java <BenchFlags.JVM_ARGS> -cp benchmarks.jar
 * io.runicquanta.bench.master.ClientCallBench [threads seconds rounds [setups,...]]}.
 */
public final class ClientCallBench {
  private ClientCallBench() {}

  /**
   * @param args threads (16), seconds per cell (3), rounds (3), comma-separated set-ups
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    String[] setups = (args.length > 3 ? args[3] : "mc,mcapi,raw-retry-dl,raw-noretry-dl,raw-retry-nodl,raw-noretry-nodl").split(",");
    NioEventLoopGroup boss = new NioEventLoopGroup(1, new DefaultThreadFactory("srv-boss", true));
    NioEventLoopGroup work = new NioEventLoopGroup(1, new DefaultThreadFactory("srv-work", true));
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(work)
        .channelType(NioServerSocketChannel.class)
        .directExecutor()
        .addService(new Canned())
        .build()
        .start();
    int port = server.getPort();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    System.out.println("| round | set-up | threads | calls/s | p50 ms | p99 ms | CPU us/call: callers, client transport+other, server |");
    System.out.println("|---|---|---|---|---|---|---|");
    try {
      for (int r = 0; r < rounds; r++) {
        for (String s : setups) {
          Setup su = setup(s, port);
          try {
            cell(su.call, threads, 1, mx); // warm-up
            double[] m = cell(su.call, threads, seconds, mx);
            System.out.printf(Locale.ROOT, "| %d | %s | %d | %,.0f | %.3f | %.3f | %.1f, %.1f, %.1f |%n",
                r, s, threads, m[0], m[1], m[2], m[3], m[4], m[5]);
          } finally {
            su.close.run();
          }
        }
      }
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      work.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private record Setup(Function<String, Object> call, Runnable close) {}

  private static Setup setup(String s, int port) {
    if (s.equals("mc") || s.equals("mcapi")) {
      MasterClient c = MasterClient.connect("127.0.0.1", port, 1);
      Function<String, Object> f = s.equals("mc")
          ? k -> c.call(st -> st.getReplicaList(GetReplicaListRequest.newBuilder().setKey(k).build()))
          : c::getReplicaList;
      return new Setup(f, c::close);
    }
    if (!s.startsWith("raw-")) {
      throw new IllegalArgumentException("unknown set-up '" + s + "'; expected mc, mcapi or raw-(no)retry-(no)dl");
    }
    NettyChannelBuilder b = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext();
    if (s.contains("noretry")) {
      b.disableRetry();
    }
    ManagedChannel ch = b.build();
    MasterServiceGrpc.MasterServiceBlockingStub stub = MasterServiceGrpc.newBlockingStub(ch);
    boolean dl = !s.endsWith("nodl");
    Function<String, Object> f = k -> {
      GetReplicaListRequest req = GetReplicaListRequest.newBuilder().setKey(k).build();
      return dl ? stub.withDeadlineAfter(30_000, TimeUnit.MILLISECONDS).getReplicaList(req)
          : stub.getReplicaList(req);
    };
    return new Setup(f, () -> {
      ch.shutdownNow();
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  /** @return calls/s, p50 ms, p99 ms, CPU us per call of callers, other client threads, server */
  private static double[] cell(Function<String, Object> call, int threads, int seconds, ThreadMXBean mx)
      throws Exception {
    Map<Long, long[]> before = snapshot(mx);
    AtomicBoolean stop = new AtomicBoolean();
    long[][] lat = new long[threads][];
    int[] n = new int[threads];
    long[] callerCpu = new long[threads];
    List<Thread> ts = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      int idx = i;
      lat[i] = new long[1 << 20];
      Thread t = new Thread(() -> {
        long c0 = mx.getCurrentThreadCpuTime();
        String key = "p/" + idx;
        while (!stop.get()) {
          long t0 = System.nanoTime();
          if (call.apply(key) == null) {
            throw new IllegalStateException("no answer");
          }
          if (n[idx] < lat[idx].length) {
            lat[idx][n[idx]++] = System.nanoTime() - t0;
          }
        }
        callerCpu[idx] = mx.getCurrentThreadCpuTime() - c0;
      }, "caller-" + i);
      ts.add(t);
    }
    long w0 = System.nanoTime();
    ts.forEach(Thread::start);
    Thread.sleep(seconds * 1000L);
    stop.set(true);
    for (Thread t : ts) {
      t.join();
    }
    double secs = (System.nanoTime() - w0) / 1e9;
    Map<Long, long[]> after = snapshot(mx);
    long server = 0;
    long other = 0;
    for (Map.Entry<Long, long[]> e : after.entrySet()) {
      long[] b = before.get(e.getKey());
      long d = e.getValue()[0] - (b == null ? 0 : b[0]);
      if (e.getValue()[1] == 1) {
        server += d;
      } else if (e.getValue()[1] == 0) {
        other += d;
      }
    }
    long callers = Arrays.stream(callerCpu).sum();
    int total = Arrays.stream(n).sum();
    long[] all = new long[total];
    int at = 0;
    for (int i = 0; i < threads; i++) {
      System.arraycopy(lat[i], 0, all, at, n[i]);
      at += n[i];
    }
    Arrays.sort(all);
    return new double[] {total / secs, all[total / 2] / 1e6, all[(int) (total * 0.99)] / 1e6,
        callers / 1e3 / total, other / 1e3 / total, server / 1e3 / total};
  }

  /** @return thread id to {cpu ns, 1 if a server thread, 2 if a caller, 0 otherwise} */
  private static Map<Long, long[]> snapshot(ThreadMXBean mx) {
    Map<Long, long[]> m = new HashMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      long cpu = mx.getThreadCpuTime(t.getId());
      if (cpu < 0) {
        continue;
      }
      String name = t.getName();
      m.put(t.getId(), new long[] {cpu, name.startsWith("srv-") ? 1 : name.startsWith("caller-") ? 2 : 0});
    }
    return m;
  }

  /** Answers every GetReplicaList with a fixed one-block, three-shard placement. */
  private static final class Canned extends MasterServiceGrpc.MasterServiceImplBase {
    private final ReplicaInfo replica;

    Canned() {
      BlockPlacement.Builder b = BlockPlacement.newBuilder().setBlockId(0).setOffset(0).setSize(4096).setK(4);
      for (int i = 0; i < 3; i++) {
        b.addShards(BufHandle.newBuilder().setSegmentName("bseg" + i).setOffset(1L << 20 | i * 4160L)
            .setSize(4160).setFirstEsi(i * 2).setEsiCount(2).setCrc32C(0x12345678 + i)
            .setStatus(BufHandle.BufStatus.COMPLETE));
      }
      replica = ReplicaInfo.newBuilder().setSize(4096).setLossTolerance(1)
          .setOti(ByteString.copyFrom(new byte[] {0, 0, 0, 0, 16, 0, 0, 4, 0, 1, 0, 0, 0, 0, 0, 0}, 0, 12))
          .setStatus(ReplicaInfo.ReplicaStatus.COMPLETE).addBlocks(b).build();
    }

    @Override
    public void getReplicaList(GetReplicaListRequest req, StreamObserver<GetReplicaListResponse> obs) {
      obs.onNext(GetReplicaListResponse.newBuilder()
          .setReplica(replica.toBuilder().setKey(req.getKey()))
          .setLeaseExpiresUnixMs(System.currentTimeMillis() + 10_000)
          .build());
      obs.onCompleted();
    }
  }
}
