package io.runicquanta.bench.grid;

import io.runicquanta.master.LocalGrid;
import io.runicquanta.master.MasterClient;
import io.runicquanta.master.proto.GetReplicaListByRegexRequest;
import io.runicquanta.master.proto.ListSegmentsRequest;
import io.runicquanta.plugin.RqPluginConfiguration;
import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import io.runicquanta.plugin.StashResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * The issue's {@code tcp} figure: stash, and reveal after m = 1 node process was killed with
 * SIGKILL (so blocks that lost source symbols are decoded from repair symbols), of a large Arrow
 * table over four {@code rq node} processes with the {@code tcp} transport, with the codec's own
 * encode and decode of the same bytes and a memory copy of them measured in the same run (the
 * way {@link StashRevealBenchmark} does it, whose helpers this uses).
 *
 * <ul>
 *   <li>nodes: four {@code rq node} processes started from this jar (tcp, 127.0.0.1, block 8 MiB,
 *       T = 65532, m = 1, self-healing off with {@code --repair-interval=0} so the reveal reads the
 *       survivors' repair symbols and competes with no repair); this process joins as an Ignite
 *       client with the plugin (no segment, never the master) and does the stash and the reveal;
 *   <li>memcpy, codec encode, codec decode: as in {@link StashRevealBenchmark} (one thread);
 *   <li>stash: {@code RqStore.stash(key, root)} of the table;
 *   <li>SIGKILL of the node process (not the master's host) holding source symbols of the most
 *       blocks; the client waits until Ignite discovery has dropped it, so the reveal reads only
 *       live nodes;
 *   <li>reveal: {@code revealChannel} drained into a direct buffer; then, untimed, a second pass
 *       checks every byte against the table's IPC stream.
 * </ul>
 *
 * <p>Usage: {@code java <BenchFlags.JVM_ARGS> -cp benchmarks.jar
 * io.runicquanta.bench.grid.TcpRevealBenchmark [tableMiB=1024] [concurrency=4]}. Ports 44650+ and
 * 44750+ plus {@code RQ_GRID_PORT_SHIFT}; node logs in {@code java.io.tmpdir/rq-tcp-bench-N.log}.
 * This process holds the table, its IPC stream and a copy of it off-heap (about 3.3 x the table;
 * the default heap size is fine).
 */
public final class TcpRevealBenchmark {
  private static final int DISCO = 44650;
  private static final int COMM = 44750;
  private static final int BLOCK = 8 << 20;
  private static final int T = 65532;
  /**
   * A tcp transfer that makes no progress this long fails (default 5 s): raised because on the
   * shared 2-core machine JVM pauses of seconds made writes fail and parts be stored degraded
   * (a write failure leaves a bad shard that the m = 1 kill then turns into DATA_LOSS).
   */
  private static final long STALL_MILLIS = 60_000;

  private TcpRevealBenchmark() {}

  public static void main(String[] args) throws Exception {
    long tableMiB = args.length > 0 ? Long.parseLong(args[0]) : 1024;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    long rows = (tableMiB << 20) / 16;
    long seg = (long) ((tableMiB << 20) * 0.5) + (256L << 20);
    String jar = Path.of(TcpRevealBenchmark.class.getProtectionDomain().getCodeSource()
        .getLocation().toURI()).toString();
    List<Process> nodes = new ArrayList<>();
    Map<String, Process> byNodeId = new LinkedHashMap<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> nodes.forEach(Process::destroyForcibly)));
    for (int i = 0; i < 4; i++) {
      List<String> cmd = StreamStashBenchmark.nodeCommand(jar, "--name=tcp-bench-" + i,
          "--discovery-port=" + DISCO, "--comm-port=" + COMM, "--segment-size=" + seg,
          "--block-size=" + BLOCK, "--symbol-size=" + T, "--repair-interval=0",
          "--transport-option=tcp.stallMillis=" + STALL_MILLIS);
      Path log = Path.of(System.getProperty("java.io.tmpdir"), "rq-tcp-bench-" + i + ".log");
      Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
      nodes.add(p);
      // one at a time: JVMs zeroing large segments at once on 2 cores starve Ignite's heartbeats
      BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = r.readLine()) != null && !line.startsWith("READY")) {
        // wait for the node to join
      }
      if (line == null) {
        throw new IllegalStateException("node " + i + " exited before READY; see " + log);
      }
      byNodeId.put(line.split(" ")[2], p);
    }
    System.setProperty("IGNITE_QUIET", "true");
    IgniteConfiguration c = LocalGrid.config("tcp-bench-client", DISCO, COMM, 10, 16, true);
    c.setPluginConfigurations(RqPluginConfiguration.builder().segmentSize(0).transport("tcp")
        .transportOption("tcp.host", "127.0.0.1")
        .transportOption("tcp.stallMillis", Long.toString(STALL_MILLIS)).hostMaster(false).lossTolerance(1)
        .blockSize(BLOCK).symbolSize(T).concurrency(concurrency).maxMemory(1L << 30)
        .repairIntervalMillis(0).build());
    Map<String, Double> mbs = new HashMap<>();
    int decoded = 0;
    int blocks = 0;
    try (Ignite client = Ignition.start(c);
        BufferAllocator alloc = new RootAllocator(Long.MAX_VALUE);
        MasterClient master = MasterClient.connect(client, Duration.ofSeconds(60))) {
      RqStore rq = RqStore.of(client);
      double mb;
      long ipcLen;
      long cap = (tableMiB << 20) + (tableMiB << 20) / 8 + (4L << 20);
      try (ArrowBuf ipc = alloc.buffer(cap)) {
        try (VectorSchemaRoot root = StashRevealBenchmark.table(alloc, (int) rows)) {
          ipcLen = StashRevealBenchmark.writeIpc(root, ipc);
          mb = ipcLen / 1e6;
          System.err.printf(Locale.ROOT, "table: %d rows, IPC stream %.1f MB; block %d, T %d, tcp,"
              + " 4 node processes%n", rows, mb, BLOCK, T);
          try (ArrowBuf copy = alloc.buffer(cap)) {
            double best = Double.MAX_VALUE;
            for (int r = 0; r < 3; r++) {
              long t0 = System.nanoTime();
              copy.setBytes(0, ipc, 0, ipcLen);
              best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            mbs.put("memcpy", mb / best);
          }
          double[] codec = StashRevealBenchmark.codec(alloc, ipc, ipcLen, BLOCK, T);
          mbs.put("encode", mb / codec[0]);
          mbs.put("decode", mb / codec[1]);

          long t0 = System.nanoTime();
          StashResult sr = rq.stash("bench/tcp", root, StashOptions.defaults());
          double s = (System.nanoTime() - t0) / 1e9;
          if (sr.size() != ipcLen) {
            throw new AssertionError("stashed " + sr.size() + " bytes, the IPC stream is " + ipcLen);
          }
          mbs.put("stash", mb / s);
          System.err.printf(Locale.ROOT, "stash: %.2f s, %d blocks, %d bytes stored%n", s,
              sr.blocks(), sr.storedBytes());
        }

        // the victim: the node process (not the master's host) holding source symbols of the
        // most blocks
        String masterNode = master.address().nodeId();
        Map<String, String> segNode = new HashMap<>();
        for (var it : master.call(st -> st.listSegments(ListSegmentsRequest.getDefaultInstance()))
            .getSegmentsList()) {
          segNode.put(it.getSegment().getName(), it.getSegment().getNodeId());
        }
        var parts = master.call(st -> st.getReplicaListByRegex(
            GetReplicaListByRegexRequest.newBuilder().setKeyRegex("\\.rq/.*").build()));
        Map<String, Integer> sourceBlocks = new HashMap<>();
        for (var ri : parts.getReplicasList()) {
          for (var b : ri.getBlocksList()) {
            blocks++;
            java.util.Set<String> holders = new java.util.HashSet<>();
            for (var sh : b.getShardsList()) {
              if (sh.getFirstEsi() < b.getK()) {
                holders.add(segNode.get(sh.getSegmentName()));
              }
            }
            for (String n : holders) {
              sourceBlocks.merge(n, 1, Integer::sum);
            }
          }
        }
        String victim = null;
        for (String id : byNodeId.keySet()) {
          if (!id.equals(masterNode) && (victim == null
              || sourceBlocks.getOrDefault(id, 0) > sourceBlocks.getOrDefault(victim, 0))) {
            victim = id;
          }
        }
        decoded = sourceBlocks.getOrDefault(victim, 0);
        Process vp = byNodeId.get(victim);
        System.err.printf(Locale.ROOT, "SIGKILL of node %s (pid %d): it holds source symbols of %d"
            + " of %d blocks%n", victim, vp.pid(), decoded, blocks);
        vp.destroyForcibly(); // SIGKILL
        vp.waitFor(30, TimeUnit.SECONDS);
        long t0 = System.nanoTime();
        while (client.cluster().forServers().nodes().size() != 3) {
          if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(120)) {
            throw new IllegalStateException("the grid did not drop the killed node in 120 s");
          }
          Thread.sleep(100);
        }
        System.err.printf(Locale.ROOT, "the grid dropped it after %.1f s; %s%n",
            (System.nanoTime() - t0) / 1e9, rq.stat("bench/tcp"));

        mbs.put("reveal", mb / StashRevealBenchmark.revealSeconds(rq, "bench/tcp", ipcLen));
        long at = StashRevealBenchmark.checkReveal(rq, "bench/tcp", ipc);
        if (at != ipcLen) {
          throw new AssertionError("checked " + at + " bytes, expected " + ipcLen);
        }
        System.err.println("revealed bytes identical: " + at);
      }
      rq.remove("bench/tcp");
      if (alloc.getAllocatedMemory() != 0) {
        throw new AssertionError("the benchmark's allocator holds " + alloc.getAllocatedMemory() + " bytes");
      }
    } finally {
      for (Process p : nodes) {
        try {
          p.getOutputStream().close();
        } catch (java.io.IOException e) {
          // already gone
        }
      }
      for (Process p : nodes) {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%n| %d MiB table, block %d MiB, T %d, 4 tcp node processes,"
        + " m = 1, concurrency %d; one node SIGKILLed, reveal decoded %d of %d blocks | MB/s |%n"
        + "|---|---|%n", tableMiB, BLOCK >> 20, T, concurrency, decoded, blocks));
    for (String k : List.of("memcpy", "encode", "decode", "stash", "reveal")) {
      sb.append(String.format(Locale.ROOT, "| %s | %.0f |%n", k, mbs.get(k)));
    }
    sb.append(String.format(Locale.ROOT, "| stash / codec encode | %.2f |%n", mbs.get("stash") / mbs.get("encode")));
    sb.append(String.format(Locale.ROOT, "| reveal / codec decode | %.2f |%n", mbs.get("reveal") / mbs.get("decode")));
    sb.append(String.format(Locale.ROOT, "| stash / memcpy | %.4f |%n", mbs.get("stash") / mbs.get("memcpy")));
    sb.append(String.format(Locale.ROOT, "| reveal / memcpy | %.4f |%n", mbs.get("reveal") / mbs.get("memcpy")));
    System.out.println(sb);
  }
}
