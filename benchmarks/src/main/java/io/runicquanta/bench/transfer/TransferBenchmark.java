package io.runicquanta.bench.transfer;

import io.runicquanta.bench.BenchFlags;
import io.runicquanta.transfer.Segment;
import io.runicquanta.transfer.SegmentDescriptor;
import io.runicquanta.transfer.TransferEngine;
import io.runicquanta.transfer.TransferEngineBuilder;
import io.runicquanta.transfer.TransferRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * Throughput of the transfer engine (a main class, not a JMH benchmark, because the target is a second
 * process that this class starts and stops).
 *
 * <p>For each transfer size (64 KiB, 1 MiB, 16 MiB), direction (READ, WRITE) and rail count (1, 2,
 * 4) it runs back-to-back batches of {@code BATCH_BYTES} made of requests of that size, for {@code
 * rq.bench.seconds} (default 0.5) after a warm-up of 30 % of that, and reports GB/s (10^9 bytes/s).
 * Each cell runs {@code rq.bench.repeats} (default 5) iterations of the engine interleaved with as
 * many of its baseline (same warm-up, same bytes, same request size) and reports the median of each,
 * so a burst of load from other processes on the shared machine hits both sides alike:
 *
 * <ul>
 *   <li>{@code tcp} and {@code fabric} (provider {@code rq.bench.fabricProviders}, default {@code
 *       tcp;ofi_rxm,shm}) with the target in a second JVM on loopback;
 *   <li>{@code local} with both engines in this JVM;
 *   <li>baseline "socket": the same bytes in chunks of the same size over one plain Java
 *       SocketChannel between the same two processes (direct buffers on both ends);
 *   <li>baseline "memcpy": the same bytes copied with {@code Unsafe.copyMemory} in this JVM.
 * </ul>
 *
 * Ratios: tcp and fabric against the socket baseline of the same size and direction, local against
 * memcpy of the same size. {@code -Drq.bench.sizes=65536,...}, {@code -Drq.bench.rails=1,...} and
 * {@code -Drq.bench.ops=READ,WRITE} pick cells; {@code -Drq.bench.batchBytes} (default 32 MiB) sets
 * the bytes per batch, so that tiny sizes (for example 64 bytes, 1 MiB batches) measure the cost per
 * request, which the table also prints (ns per request = size / throughput). It also prints the CPU
 * time per request of both processes (all threads, at the clock tick's resolution) for the engine and
 * its baseline: on a loaded machine that says more about per-request costs than wall-clock throughput. Run: {@code IPATH_NO_BACKTRACE=1 java <BenchFlags.JVM_ARGS> -cp
 * benchmarks/target/benchmarks.jar io.runicquanta.bench.transfer.TransferBenchmark}.
 */
public final class TransferBenchmark {
  static final long BATCH_BYTES = Long.getLong("rq.bench.batchBytes", 32L << 20);
  static final long SEGMENT_BYTES = 64L << 20;
  static final long[] SIZES = java.util.Arrays.stream(System.getProperty("rq.bench.sizes", "65536,1048576,16777216")
      .split(",")).mapToLong(Long::parseLong).toArray();
  static final int[] RAILS = java.util.Arrays.stream(System.getProperty("rq.bench.rails", "1,2,4").split(","))
      .mapToInt(Integer::parseInt).toArray();
  static final double SECONDS = Double.parseDouble(System.getProperty("rq.bench.seconds", "0.5"));
  static final int REPEATS = Integer.getInteger("rq.bench.repeats", 5);
  static final String[] OPS = System.getProperty("rq.bench.ops", "WRITE,READ").split(",");

  private TransferBenchmark() {}

  record Row(String transport, String op, long size, int rails, double gbps, String baseline, double ratio,
      double cpuNsPerReq, double baseCpuNsPerReq) {}

  /** The peer process of the running remote cells, whose CPU time {@link #measure} adds; null for local. */
  static volatile ProcessHandle peerProcess;
  /** CPU time (both processes) per byte of the last {@link #measure}, in ns. */
  static double lastCpuNsPerByte;

  public static void main(String[] args) throws Exception {
    List<Row> rows = new ArrayList<>();
    Map<String, Double> socket = new LinkedHashMap<>();
    Map<Long, Double> memcpy = new LinkedHashMap<>();
    try (RootAllocator root = new RootAllocator(Long.MAX_VALUE)) {
      String only = System.getProperty("rq.bench.transports", "local,tcp,fabric");
      if (only.contains("local")) {
        runLocal(root, rows, memcpy);
      }
      // tcp, with the socket baseline in the same peer process
      if (only.contains("tcp")) {
        // -Drq.bench.tcpOptions=tcp.sendBuffer=4194304,... : engine options for both tcp sides
        Map<String, String> tcpOpts = new LinkedHashMap<>();
        for (String kv : System.getProperty("rq.bench.tcpOptions", "").split(",")) {
          if (kv.contains("=")) {
            tcpOpts.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
          }
        }
        runRemote(root, "tcp", tcpOpts, rows, socket);
      }
      String providers = System.getProperty("rq.bench.fabricProviders", "tcp;ofi_rxm,shm");
      for (String p : providers.split(",")) {
        if (!p.isBlank() && only.contains("fabric")) {
          // A provider that fails (for example shm's connection handshake never completing) gets one
          // more try with a fresh peer; its rows are reported only from a complete run.
          for (int attempt = 1; attempt <= 2; attempt++) {
            List<Row> mine = new ArrayList<>();
            try {
              // -Drq.bench.fabricOptions=fabric.idleParkNanos=0,... : engine options for both fabric sides
              Map<String, String> fabricOpts = new LinkedHashMap<>();
              for (String kv : System.getProperty("rq.bench.fabricOptions", "").split(",")) {
                if (kv.contains("=")) {
                  fabricOpts.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
                }
              }
              fabricOpts.put("fabric.provider", p.trim());
              runRemote(root, "fabric", fabricOpts, mine, socket);
              rows.addAll(mine);
              break;
            } catch (Exception e) {
              System.out.println("fabric " + p + " attempt " + attempt + ": not measured: " + e);
            }
          }
        }
      }
    }
    print(rows, socket, memcpy);
  }

  static void runLocal(RootAllocator root, List<Row> rows, Map<Long, Double> memcpy) throws Exception {
    try (TransferEngine peer = engine(root, "local", 4, Map.of(), "bench-local-peer");
        Segment target = peer.allocateSegment("bench", SEGMENT_BYTES)) {
      warmUpLocal(root, target);
      for (int rails : RAILS) {
        try (TransferEngine engine = engine(root, "local", rails, Map.of(), "bench-local-" + rails);
            Segment local = engine.allocateSegment("src", SEGMENT_BYTES)) {
          for (long size : SIZES) {
            for (String op : OPS) {
              // Interleaved, median of REPEATS each: the machine is shared.
              double[] gs = new double[REPEATS];
              double[] bs = new double[REPEATS];
              double[] gc = new double[REPEATS];
              double[] bc = new double[REPEATS];
              for (int rep = 0; rep < REPEATS; rep++) {
                bs[rep] = memcpy(root, size);
                bc[rep] = lastCpuNsPerByte * size;
                gs[rep] = engineRun(engine, local, target.descriptor(), op, size);
                gc[rep] = lastCpuNsPerByte * size;
              }
              double g = median(gs);
              double base = median(bs);
              memcpy.merge(size, base, Math::max);
              rows.add(new Row("local", op, size, rails, g, "memcpy", g / base, median(gc), median(bc)));
            }
          }
        }
      }
    }
  }

  /**
   * Runs the local cells' code (engine and memcpy, every size and op) unmeasured for {@code
   * rq.bench.warmupSeconds} (default 20) before the first cell. Without it the first engine's cells
   * paid the process's warm-up: whatever its rail count, the engine measured first ran at 0.57x-0.69x
   * of memcpy at 64 KiB and a later engine of the same or another rail count at 0.78x-0.87x in the
   * same run; the same engine and segment measured again 15 s later went from 0.63x to 0.78x. See
   * rdma-transfer/README.md, "One rail at 64 KiB".
   */
  static void warmUpLocal(RootAllocator root, Segment target) throws Exception {
    long end = System.nanoTime() + (long) (Double.parseDouble(System.getProperty("rq.bench.warmupSeconds", "20")) * 1e9);
    try (TransferEngine engine = engine(root, "local", RAILS[0], Map.of(), "bench-local-warmup");
        Segment local = engine.allocateSegment("src", SEGMENT_BYTES)) {
      while (System.nanoTime() < end) {
        for (long size : SIZES) {
          for (String op : OPS) {
            memcpy(root, size);
            engineRun(engine, local, target.descriptor(), op, size);
          }
        }
      }
    }
  }

  /**
   * Runs the remote cells' code (engine and socket copy, every size and op) unmeasured for {@code
   * rq.bench.remoteWarmupSeconds} (default 10) before the first remote cell of a transport. Without it
   * the first tcp cell of a run paid the processes' warm-up: at 64 KiB READ main's engine ran its first
   * cell at 0.49x-0.57x (64-95 us CPU per request) and the same cell a minute later at 1.02x-1.15x
   * (42 us), whatever the rail count (rdma-transfer/README.md, "tcp READ of 64 KiB").
   */
  static void warmUpRemote(RootAllocator root, String transport, Map<String, String> opts, SegmentDescriptor remote,
      SocketChannel ch, ByteBuffer mem) throws Exception {
    long end = System.nanoTime()
        + (long) (Double.parseDouble(System.getProperty("rq.bench.remoteWarmupSeconds", "10")) * 1e9);
    if (System.nanoTime() >= end) {
      return;
    }
    try (TransferEngine engine = engine(root, transport, RAILS[0], opts, "bench-" + transport + "-warmup");
        Segment local = engine.allocateSegment("src", SEGMENT_BYTES)) {
      while (System.nanoTime() < end) {
        for (long size : SIZES) {
          for (String op : OPS) {
            socketRun(ch, mem, op, size);
            engineRun(engine, local, remote, op, size);
          }
        }
      }
    }
  }

  static TransferEngine engine(RootAllocator root, String transport, int rails, Map<String, String> opts, String name) {
    TransferEngineBuilder b = TransferEngine.builder().name(name).allocator(root).transport(transport).rails(rails);
    opts.forEach(b::option);
    return b.build();
  }

  static void runRemote(RootAllocator root, String transport, Map<String, String> opts, List<Row> rows,
      Map<String, Double> socket) throws Exception {
    String label = transport + (opts.containsKey("fabric.provider") ? "(" + opts.get("fabric.provider") + ")" : "");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of(BenchFlags.JVM_ARGS));
    // a fixed, pre-touched heap, as the README asks of this JVM: heap growth is not charged to a cell
    cmd.addAll(List.of("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch"));
    // -Drq.bench.peerJvmArgs="-XX:StartFlightRecording=..." : extra JVM flags for the peer (space-separated)
    for (String a : System.getProperty("rq.bench.peerJvmArgs", "").trim().split("\\s+")) {
      if (!a.isEmpty()) {
        cmd.add(a);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(TransferBenchPeer.class.getName());
    cmd.add(transport);
    cmd.add("4");
    cmd.add(Long.toString(SEGMENT_BYTES));
    opts.forEach((k, v) -> cmd.add(k + "=" + v));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("IPATH_NO_BACKTRACE", "1");
    Process p = pb.start();
    peerProcess = p.toHandle();
    try {
      BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      // The peer's JVM may print before READY (for example JFR's start-up message): pass that on.
      String ready = in.readLine();
      while (ready != null && !ready.startsWith("READY ") && !ready.startsWith("ERR")) {
        System.err.println("peer: " + ready);
        ready = in.readLine();
      }
      if (ready == null || !ready.startsWith("READY ")) {
        throw new IllegalStateException(label + " peer did not start: " + ready);
      }
      String[] parts = ready.split(" ");
      SegmentDescriptor remote = SegmentDescriptor.fromBytes(Base64.getDecoder().decode(parts[1]));
      int port = Integer.parseInt(parts[2]);
      ByteBuffer mem = ByteBuffer.allocateDirect((int) SEGMENT_BYTES);
      try (SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
        ch.socket().setTcpNoDelay(true);
        warmUpRemote(root, transport, opts, remote, ch, mem);
        for (int rails : RAILS) {
          try (TransferEngine engine = engine(root, transport, rails, opts, "bench-" + transport + "-" + rails);
              Segment local = engine.allocateSegment("src", SEGMENT_BYTES)) {
            for (long size : SIZES) {
              for (String op : OPS) {
                // Interleave baseline and engine runs, median of REPEATS each: the machine is shared.
                double[] gs = new double[REPEATS];
                double[] bs = new double[REPEATS];
                double[] gc = new double[REPEATS];
                double[] bc = new double[REPEATS];
                for (int rep = 0; rep < REPEATS; rep++) {
                  bs[rep] = socketRun(ch, mem, op, size);
                  bc[rep] = lastCpuNsPerByte * size;
                  gs[rep] = engineRun(engine, local, remote, op, size);
                  gc[rep] = lastCpuNsPerByte * size;
                }
                double g = median(gs);
                double base = median(bs);
                socket.merge(op + "/" + size, base, Math::max);
                rows.add(new Row(label, op, size, rails, g, "socket", g / base, median(gc), median(bc)));
              }
            }
          }
        }
      }
    } finally {
      try (OutputStream o = p.getOutputStream()) {
        o.write("exit\n".getBytes(StandardCharsets.UTF_8));
      } catch (IOException ignored) {
        // peer already gone
      }
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      peerProcess = null;
    }
  }

  /** GB/s of back-to-back batches of BATCH_BYTES in requests of {@code size}. */
  static double engineRun(TransferEngine engine, Segment local, SegmentDescriptor remote, String op, long size)
      throws Exception {
    List<TransferRequest> batch = new ArrayList<>();
    for (long off = 0; off < BATCH_BYTES; off += size) {
      batch.add(op.equals("WRITE")
          ? TransferRequest.write(local, off, remote, off, size)
          : TransferRequest.read(local, off, remote, off, size));
    }
    return measure(() -> engine.submit(batch).future().get(120, TimeUnit.SECONDS));
  }

  /**
   * With {@code -Drq.bench.socketReadRequests=true} the READ baseline sends one 16-byte request per
   * chunk (all of a batch's requests in one write, then it reads the chunks), as any READ protocol
   * must, instead of one command per batch. Off by default: the table's baseline stays the plain copy.
   */
  static final boolean SOCKET_READ_REQUESTS = Boolean.getBoolean("rq.bench.socketReadRequests");

  static double socketRun(SocketChannel ch, ByteBuffer mem, String op, long size) throws Exception {
    ByteBuffer cmd = ByteBuffer.allocateDirect(9);
    ByteBuffer ack = ByteBuffer.allocateDirect(1);
    if (SOCKET_READ_REQUESTS && op.equals("READ")) {
      int n = (int) ((BATCH_BYTES + size - 1) / size);
      ByteBuffer reqs = ByteBuffer.allocateDirect(9 + 16 * n);
      return measure(() -> {
        reqs.clear();
        reqs.put((byte) 3).putLong(n);
        for (long off = 0; off < BATCH_BYTES; off += size) {
          reqs.putLong(off).putInt((int) Math.min(size, BATCH_BYTES - off)).putInt(0);
        }
        reqs.flip();
        while (reqs.hasRemaining()) {
          ch.write(reqs);
        }
        for (long off = 0; off < BATCH_BYTES; off += size) {
          mem.clear().position((int) off).limit((int) Math.min(off + size, BATCH_BYTES));
          while (mem.hasRemaining()) {
            if (ch.read(mem) < 0) {
              throw new IOException("peer closed");
            }
          }
        }
        return null;
      });
    }
    return measure(() -> {
      cmd.clear();
      cmd.put(op.equals("WRITE") ? (byte) 1 : (byte) 2).putLong(BATCH_BYTES).flip();
      while (cmd.hasRemaining()) {
        ch.write(cmd);
      }
      for (long off = 0; off < BATCH_BYTES; off += size) {
        mem.clear().position((int) off).limit((int) (off + size));
        while (mem.hasRemaining()) {
          if ((op.equals("WRITE") ? ch.write(mem) : ch.read(mem)) < 0) {
            throw new IOException("peer closed");
          }
        }
      }
      if (op.equals("WRITE")) {
        ack.clear();
        while (ack.hasRemaining()) {
          ch.read(ack);
        }
      }
      return null;
    });
  }

  static double memcpy(RootAllocator root, long size) throws Exception {
    try (ArrowBuf src = root.buffer(SEGMENT_BYTES); ArrowBuf dst = root.buffer(SEGMENT_BYTES)) {
      src.setZero(0, SEGMENT_BYTES);
      dst.setZero(0, SEGMENT_BYTES);
      return measure(() -> {
        for (long off = 0; off < BATCH_BYTES; off += size) {
          MemoryUtil.copyMemory(src.memoryAddress() + off, dst.memoryAddress() + off, size);
        }
        return null;
      });
    }
  }

  interface Step {
    Object run() throws Exception;
  }

  static double measure(Step step) throws Exception {
    long warm = System.nanoTime() + (long) (0.3e9 * SECONDS);
    do {
      step.run();
    } while (System.nanoTime() < warm);
    long bytes = 0;
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    long end = t0 + (long) (SECONDS * 1e9);
    do {
      step.run();
      bytes += BATCH_BYTES;
    } while (System.nanoTime() < end);
    long t1 = System.nanoTime();
    lastCpuNsPerByte = (double) (cpuNanos() - cpu0) / bytes;
    return bytes / ((t1 - t0) / 1e9) / 1e9;
  }

  /** CPU time of this process and of the peer process (if any), all threads, in ns (clock-tick resolution). */
  static long cpuNanos() {
    long n = ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    ProcessHandle peer = peerProcess;
    if (peer != null) {
      n += peer.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }
    return n;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  static String size(long s) {
    return s >= (1 << 20) ? (s >> 20) + " MiB" : s >= 1024 ? (s >> 10) + " KiB" : s + " B";
  }

  static void print(List<Row> rows, Map<String, Double> socket, Map<Long, Double> memcpy) {
    StringBuilder sb = new StringBuilder();
    sb.append("\nBaselines (GB/s):\n\n| baseline | op | size | GB/s |\n|---|---|---|---|\n");
    memcpy.forEach((s, g) -> sb.append(String.format(Locale.ROOT, "| memcpy | copy | %s | %.2f |%n", size(s), g)));
    socket.forEach((k, g) -> {
      String[] kp = k.split("/");
      sb.append(String.format(Locale.ROOT, "| socket | %s | %s | %.2f |%n", kp[0], size(Long.parseLong(kp[1])), g));
    });
    sb.append("\n| transport | op | size | rails | GB/s | ns/request | vs baseline | ratio "
        + "| CPU ns/request | baseline CPU ns/request |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.2f | %.0f | %s | %.2fx | %.0f | %.0f |%n",
          r.transport(), r.op(), size(r.size()), r.rails(), r.gbps(), r.size() / r.gbps(), r.baseline(), r.ratio(),
          r.cpuNsPerReq(), r.baseCpuNsPerReq()));
    }
    System.out.println(sb);
  }
}
