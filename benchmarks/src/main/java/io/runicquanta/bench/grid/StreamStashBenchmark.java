package io.runicquanta.bench.grid;

import io.runicquanta.bench.BenchFlags;
import io.runicquanta.cli.RqCli;
import io.runicquanta.master.LocalGrid;
import io.runicquanta.plugin.RqPluginConfiguration;
import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import io.runicquanta.plugin.StashResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * Stash of Arrow tables streamed from an {@link ArrowReader} into {@code tcp} node processes, then
 * reveal batch by batch, with the stashing process's peak RSS: the "must not grow with the
 * object" figure.
 *
 * <p>Four {@code rq node} processes (tcp transport, 127.0.0.1) are started from this jar. This
 * process joins as an Ignite client with the plugin (no segment) and, for each table size given,
 * stashes a generated table (columns id bigint, value double; batches of 65,536 rows made on the
 * fly, so the table never exists whole in this process) with {@code releaseSource}, then kills
 * nothing and reveals it with {@code revealReader}, checking every value against the generator.
 * After each step it prints this process's RSS now and its peak so far (VmRSS, VmHWM of
 * /proc/self/status), the Arrow memory in use and MB/s.
 *
 * <p>Usage: {@code java <BenchFlags.JVM_ARGS> -Xmx512m -cp benchmarks.jar
 * io.runicquanta.bench.grid.StreamStashBenchmark [GiB...]} (default {@code 1 4}; the figures in grid-plugin/README.md use {@code -Xmx256m -XX:+UseSerialGC}, as {@code ./rq} runs); ports 44600+ and
 * 44700+ plus {@code RQ_GRID_PORT_SHIFT}; node logs in {@code java.io.tmpdir/rq-stream-bench-N.log}.
 */
public final class StreamStashBenchmark {
  private static final int ROWS_PER_BATCH = 65_536;
  private static final int DISCO = 44600;
  private static final int COMM = 44700;

  private StreamStashBenchmark() {}

  /** Generates batches of (id, value = f(id)) until {@code rows} rows were produced. */
  static final class GeneratedReader extends ArrowReader {
    private final long rows;
    private long next;

    GeneratedReader(BufferAllocator allocator, long rows) {
      super(allocator);
      this.rows = rows;
    }

    static double value(long id) {
      return (id * 0x9E3779B97F4A7C15L >>> 11) * 0x1.0p-53;
    }

    @Override
    public boolean loadNextBatch() throws IOException {
      if (next >= rows) {
        return false;
      }
      VectorSchemaRoot root = getVectorSchemaRoot();
      int n = (int) Math.min(ROWS_PER_BATCH, rows - next);
      BigIntVector id = (BigIntVector) root.getVector(0);
      Float8Vector v = (Float8Vector) root.getVector(1);
      id.allocateNew(n);
      v.allocateNew(n);
      for (int i = 0; i < n; i++) {
        id.set(i, next + i);
        v.set(i, value(next + i));
      }
      root.setRowCount(n);
      next += n;
      return true;
    }

    @Override
    public long bytesRead() {
      return next * 16;
    }

    @Override
    protected void closeReadSource() {}

    @Override
    protected Schema readSchema() {
      return new Schema(List.of(
          new Field("id", FieldType.notNullable(new ArrowType.Int(64, true)), null),
          new Field("value", FieldType.notNullable(
              new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)), null)));
    }
  }

  static String status(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) {
        return line.substring(field.length() + 1).trim();
      }
    }
    return "?";
  }

  static long kib(String field) throws IOException {
    return Long.parseLong(status(field).replace("kB", "").trim());
  }

  public static void main(String[] args) throws Exception {
    double[] gib = args.length == 0 ? new double[] {1, 4}
        : Arrays.stream(args).mapToDouble(Double::parseDouble).toArray();
    double maxGib = Arrays.stream(gib).max().orElse(1);
    // each node holds about 1/3 of the coded bytes of the largest table (4 shards, m = 1, 1.38x)
    long seg = (long) (maxGib * (1L << 30) * 0.5) + (256L << 20);
    String jar = Path.of(StreamStashBenchmark.class.getProtectionDomain().getCodeSource()
        .getLocation().toURI()).toString();
    List<Process> nodes = new ArrayList<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> nodes.forEach(Process::destroyForcibly)));
    for (int i = 0; i < 4; i++) {
      List<String> cmd = nodeCommand(jar, "--name=stream-bench-" + i, "--discovery-port=" + DISCO,
          "--comm-port=" + COMM, "--segment-size=" + seg);
      Path log = Path.of(System.getProperty("java.io.tmpdir"), "rq-stream-bench-" + i + ".log");
      Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
      nodes.add(p);
      // one at a time: four JVMs zeroing GiB segments at once on 2 cores starve Ignite's heartbeats
      BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = r.readLine()) != null && !line.startsWith("READY")) {
        // wait for the node to join
      }
      if (line == null) {
        throw new IllegalStateException("a node process exited before READY; see its log");
      }
    }
    System.setProperty("IGNITE_QUIET", "true");
    IgniteConfiguration c = LocalGrid.config("stream-bench-client", DISCO, COMM, 10, 16, true);
    c.setPluginConfigurations(RqPluginConfiguration.builder().segmentSize(0).transport("tcp")
        .transportOption("tcp.host", "127.0.0.1").hostMaster(false).lossTolerance(1).build());
    System.out.printf(Locale.ROOT, "%-6s %-7s %9s %8s %11s %11s %11s%n",
        "table", "step", "MB/s", "seconds", "arrow MiB", "RSS MiB", "peak MiB");
    try (Ignite client = Ignition.start(c);
        BufferAllocator alloc = new RootAllocator(Long.MAX_VALUE)) {
      RqStore rq = RqStore.of(client);
      System.out.printf(Locale.ROOT, "%-6s %-7s %9s %8s %11d %11d %11d%n", "-", "joined", "-", "-",
          alloc.getAllocatedMemory() >> 20, kib("VmRSS") >> 10, kib("VmHWM") >> 10);
      for (double g : gib) {
        long rows = (long) (g * (1L << 30) / 16);
        String key = "stream-bench/" + g;
        long t0 = System.nanoTime();
        StashResult r;
        try (GeneratedReader reader = new GeneratedReader(alloc, rows)) {
          r = rq.stash(key, reader, StashOptions.defaults().releaseSource(true));
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "%-6s %-7s %9.1f %8.2f %11d %11d %11d%n", g + "G", "stash",
            r.size() / 1e6 / s, s, alloc.getAllocatedMemory() >> 20, kib("VmRSS") >> 10,
            kib("VmHWM") >> 10);
        long t1 = System.nanoTime();
        long seen = 0;
        try (ArrowReader back = rq.revealReader(key, alloc)) {
          VectorSchemaRoot root = back.getVectorSchemaRoot();
          while (back.loadNextBatch()) {
            BigIntVector id = (BigIntVector) root.getVector(0);
            Float8Vector v = (Float8Vector) root.getVector(1);
            for (int i = 0; i < root.getRowCount(); i++) {
              if (id.get(i) != seen || v.get(i) != GeneratedReader.value(seen)) {
                throw new AssertionError("row " + seen + " differs after reveal");
              }
              seen++;
            }
          }
        }
        double s2 = (System.nanoTime() - t1) / 1e9;
        if (seen != rows) {
          throw new AssertionError("revealed " + seen + " rows, stashed " + rows);
        }
        System.out.printf(Locale.ROOT, "%-6s %-7s %9.1f %8.2f %11d %11d %11d%n", g + "G", "reveal",
            r.size() / 1e6 / s2, s2, alloc.getAllocatedMemory() >> 20, kib("VmRSS") >> 10,
            kib("VmHWM") >> 10);
        rq.remove(key);
      }
    } finally {
      for (Process p : nodes) {
        p.getOutputStream().close();
      }
      for (Process p : nodes) {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
  }

  /**
   * The command line of an {@code rq node} process for the benchmarks: this JVM's java and flags,
   * 512 MiB heap, SerialGC, tcp transport, m = 1, 512 MiB work memory, failure detection 30 s, exit
   * when stdin closes; {@code args} add the node's name, ports, segment size and anything else.
   */
  static List<String> nodeCommand(String jar, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of(BenchFlags.JVM_ARGS));
    cmd.addAll(List.of("-Xmx512m", "-XX:+UseSerialGC", "-DIGNITE_UPDATE_NOTIFIER=false",
        "-cp", jar, RqCli.class.getName(), "node", "--port-range=10", "--transport=tcp",
        "--loss-tolerance=1", "--max-memory=512m", "--failure-detection-timeout=30",
        "--exit-on-stdin-close"));
    cmd.addAll(List.of(args));
    return cmd;
  }

}
