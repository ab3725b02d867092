package io.runicquanta.bench.grid;

import io.runicquanta.codec.raptorq.DecodingPlan;
import io.runicquanta.codec.raptorq.EncodingPlan;
import io.runicquanta.codec.raptorq.SourceBlockDecoder;
import io.runicquanta.codec.raptorq.SourceBlockEncoder;
import io.runicquanta.master.LocalGrid;
import io.runicquanta.master.proto.GetReplicaListByRegexRequest;
import io.runicquanta.plugin.RqPlugin;
import io.runicquanta.plugin.RqPluginConfiguration;
import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import io.runicquanta.plugin.StashResult;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * End-to-end stash and reveal of a large Arrow table on 4 Ignite server nodes in this JVM, with the
 * codec's own encode and decode of the same bytes and a memory copy of them measured in the same
 * run.
 *
 * <ul>
 *   <li>memcpy: the table's IPC stream bytes copied once (off-heap to off-heap);
 *   <li>codec encode: per block of the same block size and T, build the encoder (plan cached per K,
 *       as stash does) and produce every symbol the grid stores for it (n = 4 shards of s =
 *       ceil((K + 3) / 3) symbols, source symbols included), one thread;
 *   <li>codec decode: per block, shard 0 (the first s source symbols) lost, decode from the K + 2
 *       symbols that follow (plan built per block, as reveal does), one thread;
 *   <li>stash: {@code RqStore.stash(key, root)} of the table (includes writing its IPC stream);
 *   <li>reveal: after m = 1 node is stopped (so blocks that lost source symbols are decoded),
 *       {@code revealChannel} drained into a direct buffer; then, untimed, a second pass checks
 *       every byte against the original stream; revealTable: the table rebuilt in an allocator.
 * </ul>
 *
 * <p>Usage (with the flags of {@code BenchFlags.JVM_ARGS}): {@code java ... -cp benchmarks.jar
 * io.runicquanta.bench.grid.StashRevealBenchmark [tableMiB=1024] [blockMiB=8] [T=65532]
 * [transport=local] [concurrency=4]}. Ports 44800+ and 44900+ plus {@code RQ_GRID_PORT_SHIFT}.
 */
public final class StashRevealBenchmark {
  private StashRevealBenchmark() {}

  public static void main(String[] args) throws Exception {
    long tableMiB = args.length > 0 ? Long.parseLong(args[0]) : 1024;
    long blockBytes = (args.length > 1 ? Long.parseLong(args[1]) : 8) << 20;
    int t = args.length > 2 ? Integer.parseInt(args[2]) : 65532;
    String transport = args.length > 3 ? args[3] : "local";
    int concurrency = args.length > 4 ? Integer.parseInt(args[4]) : 4;
    long rows = (tableMiB << 20) / 16;
    long seg = (long) ((tableMiB << 20) * 0.5) + (64L << 20);
    System.setProperty("IGNITE_QUIET", "true");
    List<Ignite> nodes = new ArrayList<>();
    try (BufferAllocator alloc = new RootAllocator(Long.MAX_VALUE)) {
      for (int i = 0; i < 4; i++) {
        IgniteConfiguration c = LocalGrid.config("bench-sr-" + i, 44800, 44900, 10, 64, false);
        c.setPluginConfigurations(RqPluginConfiguration.builder().transport(transport)
            .segmentSize(seg).blockSize(blockBytes).symbolSize(t).lossTolerance(1)
            .maxMemory(1L << 30).repairIntervalMillis(0).concurrency(concurrency).build());
        nodes.add(Ignition.start(c));
      }
      RqStore rq = RqStore.of(nodes.get(0));
      Map<String, Double> mbs = new HashMap<>();
      double ipcMb = 0;
      int[] decodedBlocks = {0, 0};
      try (VectorSchemaRoot root = table(alloc, (int) rows)) {
        // the IPC stream bytes, off-heap
        long cap = (tableMiB << 20) + (tableMiB << 20) / 8 + (4L << 20);
        try (ArrowBuf ipc = alloc.buffer(cap); ArrowBuf copy = alloc.buffer(cap)) {
          long ipcLen = writeIpc(root, ipc);
          double mb = ipcLen / 1e6;
          ipcMb = mb;
          System.err.printf(Locale.ROOT, "table: %d rows, IPC stream %.1f MB; block %d, T %d, %s%n",
              rows, mb, blockBytes, t, transport);
          double best = Double.MAX_VALUE;
          for (int r = 0; r < 3; r++) {
            long t0 = System.nanoTime();
            copy.setBytes(0, ipc, 0, ipcLen);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
          }
          mbs.put("memcpy", mb / best);
          double[] codec = codec(alloc, ipc, ipcLen, blockBytes, t);
          mbs.put("encode", mb / codec[0]);
          mbs.put("decode", mb / codec[1]);

          long t0 = System.nanoTime();
          long cpu0 = cpuNanos();
          Map<Long, Long> threads0 = threadCpu();
          StashResult sr = rq.stash("bench/table", root, StashOptions.defaults());
          System.err.println("stash CPU by thread group: " + threadCpuDelta(threads0));
          double stashS = (System.nanoTime() - t0) / 1e9;
          double stashCpu = (cpuNanos() - cpu0) / 1e9;
          System.err.printf(Locale.ROOT, "codec encode: %.2f s wall, %.2f s process CPU; stash: %.2f"
              + " s wall, %.2f s process CPU (%.2f cores busy); load average %s%n", codec[0],
              codec[2], stashS, stashCpu, stashCpu / stashS, loadAverage());
          if (sr.size() != ipcLen) {
            throw new AssertionError("stashed " + sr.size() + " bytes, the IPC stream is " + ipcLen);
          }
          mbs.put("stash", mb / stashS);
          System.err.printf(Locale.ROOT, "stash: %.2f s, %d blocks, %d bytes stored%n", stashS,
              sr.blocks(), sr.storedBytes());

          // stop the node (not the caller, not the master's host) holding source symbols of the
          // most blocks, so that reveal has to decode those blocks from repair symbols
          String masterNode = RqPlugin.of(nodes.get(0)).master().address().nodeId();
          var parts = RqPlugin.of(nodes.get(0)).master().call(st -> st.getReplicaListByRegex(
              GetReplicaListByRegexRequest.newBuilder().setKeyRegex("\\.rq/.*").build()));
          Ignite victim = null;
          int victimBlocks = -1;
          for (int i = 1; i < nodes.size(); i++) {
            Ignite n = nodes.get(i);
            if (n.cluster().localNode().id().toString().equals(masterNode)) {
              continue;
            }
            String segName = RqPlugin.of(n).segment().name();
            int blocks = 0;
            for (var ri : parts.getReplicasList()) {
              for (var b : ri.getBlocksList()) {
                boolean holdsSource = false;
                for (var sh : b.getShardsList()) {
                  holdsSource |= sh.getSegmentName().equals(segName) && sh.getFirstEsi() < b.getK();
                }
                blocks += holdsSource ? 1 : 0;
              }
            }
            if (blocks > victimBlocks) {
              victim = n;
              victimBlocks = blocks;
            }
          }
          System.err.printf(Locale.ROOT, "stopping %s: it holds source symbols of %d of %d blocks%n",
              victim.name(), victimBlocks, parts.getReplicasCount());
          decodedBlocks[0] = victimBlocks;
          decodedBlocks[1] = parts.getReplicasCount();
          Ignition.stop(victim.name(), true);
          nodes.remove(victim);
          System.err.println("stopped " + victim.name() + "; " + rq.stat("bench/table"));

          double revealS = revealSeconds(rq, "bench/table", ipcLen);
          mbs.put("reveal", mb / revealS);
          long at = checkReveal(rq, "bench/table", ipc); // untimed check of every byte
          System.err.println("revealed bytes identical: " + at);
        }
        long t0 = System.nanoTime();
        try (VectorSchemaRoot back = rq.revealTable("bench/table", alloc)) {
          double s = (System.nanoTime() - t0) / 1e9;
          mbs.put("revealTable", ipcMb / s);
          if (back.getRowCount() != root.getRowCount() || !root.equals(back)) {
            throw new AssertionError("revealed table differs");
          }
        }
        System.err.println("revealed table equal");
      }
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(Locale.ROOT, "%n| %d MiB table, block %d MiB, T %d, 4 nodes, m = 1,"
          + " %s, concurrency %d; reveal decoded %d of %d blocks | MB/s |%n|---|---|%n", tableMiB,
          blockBytes >> 20, t, transport, concurrency, decodedBlocks[0], decodedBlocks[1]));
      for (String k : List.of("memcpy", "encode", "decode", "stash", "reveal", "revealTable")) {
        sb.append(String.format(Locale.ROOT, "| %s | %.0f |%n", k, mbs.get(k)));
      }
      sb.append(String.format(Locale.ROOT, "| stash / codec encode | %.2f |%n",
          mbs.get("stash") / mbs.get("encode")));
      sb.append(String.format(Locale.ROOT, "| reveal / codec decode | %.2f |%n",
          mbs.get("reveal") / mbs.get("decode")));
      sb.append(String.format(Locale.ROOT, "| stash / memcpy | %.4f |%n",
          mbs.get("stash") / mbs.get("memcpy")));
      System.out.println(sb);
    } finally {
      for (int i = nodes.size() - 1; i >= 0; i--) {
        Ignition.stop(nodes.get(i).name(), true);
      }
    }
  }

  /**
   * Drains {@code revealChannel(key)} into a direct buffer.
   *
   * @return seconds taken; fails unless exactly {@code len} bytes came back
   */
  static double revealSeconds(RqStore rq, String key, long len) throws Exception {
    ByteBuffer bb = ByteBuffer.allocateDirect(4 << 20);
    long t0 = System.nanoTime();
    long got = 0;
    try (ReadableByteChannel ch = rq.revealChannel(key)) {
      int n;
      while ((n = ch.read(bb)) >= 0) {
        got += n;
        bb.clear();
      }
    }
    double s = (System.nanoTime() - t0) / 1e9;
    if (got != len) {
      throw new AssertionError("revealed " + got + " bytes, expected " + len);
    }
    return s;
  }

  /** Reveals {@code key} again and compares every byte with {@code want}; returns the count. */
  static long checkReveal(RqStore rq, String key, ArrowBuf want) throws Exception {
    ByteBuffer bb = ByteBuffer.allocateDirect(4 << 20);
    long at = 0;
    try (ReadableByteChannel ch = rq.revealChannel(key)) {
      while (ch.read(bb) >= 0) {
        bb.flip();
        ByteBuffer w = want.nioBuffer(at, bb.remaining());
        if (bb.mismatch(w) != -1) {
          throw new AssertionError("revealed bytes differ near offset " + (at + bb.mismatch(w)));
        }
        at += bb.remaining();
        bb.clear();
      }
    }
    return at;
  }

  static VectorSchemaRoot table(BufferAllocator a, int rows) {
    Schema schema = new Schema(List.of(
        new Field("id", FieldType.nullable(new ArrowType.Int(64, true)), null),
        new Field("x", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)), null)));
    VectorSchemaRoot root = VectorSchemaRoot.create(schema, a);
    BigIntVector id = (BigIntVector) root.getVector(0);
    Float8Vector x = (Float8Vector) root.getVector(1);
    id.allocateNew(rows);
    x.allocateNew(rows);
    long s = 0x9E3779B97F4A7C15L;
    for (int i = 0; i < rows; i++) {
      s += 0x9E3779B97F4A7C15L;
      long z = (s ^ (s >>> 30)) * 0xBF58476D1CE4E5B9L;
      id.set(i, i);
      x.set(i, (z >>> 11) * 0x1.0p-53);
    }
    root.setRowCount(rows);
    return root;
  }

  static long writeIpc(VectorSchemaRoot root, ArrowBuf out) throws Exception {
    long[] pos = {0};
    WritableByteChannel ch = new WritableByteChannel() {
      @Override
      public int write(ByteBuffer src) {
        int n = src.remaining();
        out.setBytes(pos[0], src);
        pos[0] += n;
        return n;
      }

      @Override
      public boolean isOpen() {
        return true;
      }

      @Override
      public void close() {}
    };
    try (ArrowStreamWriter w = new ArrowStreamWriter(root, null, ch)) {
      w.start();
      w.writeBatch();
      w.end();
    }
    return pos[0];
  }

  /** @return seconds of codec encode and of codec decode over all blocks, and process CPU seconds of the encode */
  static double[] codec(BufferAllocator a, ArrowBuf ipc, long len, long blockBytes, int t) {
    long kb = Math.max(1, blockBytes / t);
    long block = kb * t;
    Map<Integer, EncodingPlan> plans = new HashMap<>();
    double enc = 0;
    double dec = 0;
    double encCpu = 0;
    try (ArrowBuf src = a.buffer(block); ArrowBuf out = a.buffer((kb + 64) * 4 * t);
        ArrowBuf back = a.buffer(block)) {
      for (long off = 0; off < len; off += block) {
        long n = Math.min(block, len - off);
        int k = (int) ((n + t - 1) / t);
        src.setBytes(0, ipc, off, n);
        if ((long) k * t > n) {
          src.setZero(n, (long) k * t - n);
        }
        int s = (k + 3 + 2) / 3;
        long t0 = System.nanoTime();
        long c0 = cpuNanos();
        EncodingPlan plan = plans.computeIfAbsent(k, EncodingPlan::forSourceSymbols);
        try (SourceBlockEncoder e = SourceBlockEncoder.create(a, plan, t, src, 0)) {
          for (int esi = 0; esi < 4 * s; esi++) {
            e.encodeSymbolTo(esi, out.memoryAddress() + (long) esi * t);
          }
        }
        enc += (System.nanoTime() - t0) / 1e9;
        encCpu += (cpuNanos() - c0) / 1e9;
        int[] esis = new int[k + 2];
        for (int i = 0; i < esis.length; i++) {
          esis[i] = s + i;
        }
        t0 = System.nanoTime();
        DecodingPlan dp = DecodingPlan.build(k, esis);
        SourceBlockDecoder.decode(a, dp, t, out, (long) s * t, back, 0);
        dec += (System.nanoTime() - t0) / 1e9;
        ByteBuffer want = ipc.nioBuffer(off, (int) n);
        if (back.nioBuffer(0, (int) n).mismatch(want) != -1) {
          throw new AssertionError("codec decode differs in block at " + off);
        }
      }
    }
    return new double[] {enc, dec, encCpu};
  }

  /** CPU time of this process (every thread), ns. */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** CPU ns of every live thread, by id. */
  static Map<Long, Long> threadCpu() {
    var mx = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<Long, Long> m = new HashMap<>();
    for (long id : mx.getAllThreadIds()) {
      long c = mx.getThreadCpuTime(id);
      if (c >= 0) {
        m.put(id, c);
      }
    }
    return m;
  }

  /** CPU ms since {@code before}, summed by thread name with digits and node names removed. */
  static String threadCpuDelta(Map<Long, Long> before) {
    var mx = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<String, Long> byGroup = new HashMap<>();
    for (Map.Entry<Long, Long> e : threadCpu().entrySet()) {
      var info = mx.getThreadInfo(e.getKey());
      if (info == null) {
        continue;
      }
      long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      String g = info.getThreadName().replaceAll("bench-sr-[0-9]+", "").replaceAll("[0-9a-f]{8}", "")
          .replaceAll("[0-9]+", "#");
      byGroup.merge(g, d, Long::sum);
    }
    StringBuilder sb = new StringBuilder();
    byGroup.entrySet().stream().filter(e -> e.getValue() >= 20_000_000L)
        .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
        .forEach(e -> sb.append(e.getKey()).append('=').append(e.getValue() / 1_000_000).append("ms "));
    return sb.toString();
  }

  static String loadAverage() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }
}
