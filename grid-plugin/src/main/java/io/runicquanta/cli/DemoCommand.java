package io.runicquanta.cli;

import io.runicquanta.master.MasterClient;
import io.runicquanta.plugin.ClusterStatus;
import io.runicquanta.plugin.RqStore;
import io.runicquanta.plugin.StashOptions;
import io.runicquanta.plugin.StashResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rq demo}: the whole product on one machine. Starts a grid of separate {@code rq node}
 * processes on 127.0.0.1 (tcp transport, ports 46200.. and 46300.. plus {@code RQ_GRID_PORT_SHIFT},
 * away from Ignite's defaults so that the demo never joins a real grid), joins it as an in-process
 * client, generates an Arrow table from a seed, stashes it with {@code releaseSource} (the local
 * allocator's memory drops to zero), kills one node holding shards with SIGKILL, reveals the table
 * from the live nodes, checks it equals the original (row by row, through {@link
 * DemoTable#rowHash}), prints timings, and stops the nodes. Exit 0 only if everything worked.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Starts a grid of node processes on 127.0.0.1, stashes a generated Arrow table into it"
          + " (the local copy's memory is freed), kills a node with SIGKILL, reveals the table from"
          + " the survivors, checks it equals the original and prints what happened and how fast. 'rq"
          + " demo files' runs the codec alone on files, without a grid."
    },
    subcommands = {FilesDemoCommand.class})
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--rows", defaultValue = "3000000", description = "Rows of the table (default ${DEFAULT-VALUE}).")
  int rows;

  @Option(names = "--nodes", defaultValue = "4", description = "Node processes, 2..10 (default ${DEFAULT-VALUE}).")
  int nodes;

  @Option(names = {"-m", "--loss-tolerance"}, defaultValue = "1", description = "Loss tolerance m; the demo kills m nodes (default ${DEFAULT-VALUE}).")
  int lossTolerance;

  @Option(names = "--segment-size", paramLabel = "BYTES", converter = Sizes.class, defaultValue = "192m", description = "Segment of each node (default ${DEFAULT-VALUE}).")
  long segmentSize;

  @Option(names = "--seed", defaultValue = "20261130", description = "Seed of the table (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--discovery-port", defaultValue = "46200", description = "First discovery port of the demo grid (default ${DEFAULT-VALUE}).")
  int discoveryPort;

  @Option(names = "--comm-port", defaultValue = "46300", description = "First communication port of the demo grid (default ${DEFAULT-VALUE}).")
  int commPort;

  @Option(names = "--node-heap", defaultValue = "192m", description = "Java heap of each node (default ${DEFAULT-VALUE}).")
  String nodeHeap;

  @Option(names = "--log-dir", description = "Directory of the nodes' logs (default: a temporary directory, removed on success).")
  Path logDir;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (nodes < 2 || nodes > 10) {
      throw new IllegalArgumentException("--nodes = " + nodes + ", expected 2..10");
    }
    if (lossTolerance < 0 || lossTolerance >= nodes) {
      throw new IllegalArgumentException("--loss-tolerance = " + lossTolerance + ", expected 0.." + (nodes - 1));
    }
    if (rows < 1) {
      throw new IllegalArgumentException("--rows = " + rows + ", expected >= 1");
    }
    PrintWriter out = spec.commandLine().getOut();
    long t0 = System.nanoTime();
    Path logs = logDir != null ? Files.createDirectories(logDir) : Files.createTempDirectory("rq-demo-");
    GridSettings grid = new GridSettings(discoveryPort, commPort, 10, List.of(), "127.0.0.1", 16);
    out.printf(Locale.ROOT, "rq demo: %d node processes on 127.0.0.1, tcp transport, discovery %s; node logs in %s%n",
        nodes, grid.effectiveAddresses().get(0), logs);
    out.flush();
    List<NodeLauncher.Node> started = new ArrayList<>();
    Thread reaper = new Thread(() -> started.forEach(n -> n.process.destroyForcibly()), "rq-demo-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
    boolean ok = false;
    try {
      List<String> jvm = List.of("-Xmx" + nodeHeap, "-Xms32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss1m");
      for (int i = 0; i < nodes; i++) {
        started.add(NodeLauncher.start("rq-demo-" + i, jvm, List.of(
            "--discovery-port=" + discoveryPort, "--comm-port=" + commPort, "--port-range=10",
            "--segment-size=" + segmentSize, "--transport=tcp", "--loss-tolerance=" + lossTolerance,
            "--failure-detection-timeout=30"), logs));
      }
      List<String> ids = new ArrayList<>();
      for (NodeLauncher.Node n : started) {
        ids.add(n.awaitReady(180_000));
      }
      out.printf(Locale.ROOT, "1. started %d nodes in %.1f s (pids %s), each offering a %s segment%n", nodes, secs(t0),
          started.stream().map(n -> String.valueOf(n.process.pid())).toList(), Sizes.human(segmentSize));
      out.flush();
      long tc = System.nanoTime();
      try (GridClient client = GridClient.connect(grid, "tcp", 1, 60_000);
          BufferAllocator allocator = new RootAllocator(Long.MAX_VALUE)) {
        RqStore store = client.store();
        long masterPid;
        try (MasterClient mc = MasterClient.connect(client.ignite(), Duration.ofSeconds(30))) {
          masterPid = mc.address().pid();
        }
        out.printf(Locale.ROOT, "2. joined the grid as a client in %.1f s; the master runs in pid %d%n", secs(tc), masterPid);

        long tg = System.nanoTime();
        VectorSchemaRoot table = DemoTable.generate(allocator, rows, seed);
        long before = allocator.getAllocatedMemory();
        long hash = DemoTable.rowHash(table, 0);
        out.printf(Locale.ROOT, "3. generated a table of %,d rows (id bigint, value double, name varchar) in %.1f s:"
            + " %s in Arrow buffers, row hash %016x%n", rows, secs(tg), Sizes.human(before), hash);
        out.flush();

        String key = "demo/table-" + seed;
        StashResult r;
        ProgressBar bar = new ProgressBar("stash", spec.commandLine().getErr(), ProgressBar.isTerminal());
        try {
          r = store.stash(key, table, StashOptions.defaults().lossTolerance(lossTolerance).releaseSource(true).progress(bar));
        } finally {
          bar.finish();
          table.close();
        }
        long after = allocator.getAllocatedMemory();
        double stashSecs = r.nanos() / 1e9;
        out.printf(Locale.ROOT, "4. stashed it as '%s' (Arrow IPC stream, %s) with loss tolerance %d: %d block(s),"
            + " %s written to the nodes' segments (%.2fx); %.2f s, %.1f MB/s%n",
            key, Sizes.human(r.size()), r.lossTolerance(), r.blocks(), Sizes.human(r.storedBytes()),
            r.storedBytes() / (double) r.size(), stashSecs, r.size() / 1e6 / stashSecs);
        out.printf(Locale.ROOT, "   local Arrow memory: %s before the stash, %s after (releaseSource freed the table)%n",
            Sizes.human(before), Sizes.human(after));
        out.flush();

        ClusterStatus st = store.status();
        List<NodeLauncher.Node> victims = new ArrayList<>();
        for (int i = 0; i < nodes && victims.size() < lossTolerance; i++) {
          NodeLauncher.Node n = started.get(i);
          String id = ids.get(i);
          long shards = st.segments().stream().filter(g -> g.nodeId().equalsIgnoreCase(id))
              .mapToLong(ClusterStatus.SegmentStatus::shards).sum();
          if (n.process.pid() != masterPid && shards > 0) {
            victims.add(n);
          }
        }
        for (NodeLauncher.Node v : victims) {
          v.process.destroyForcibly();
          v.process.waitFor();
          out.printf(Locale.ROOT, "5. killed node %s (pid %d) with SIGKILL: exit status %d%n",
              v.name, v.process.pid(), v.process.exitValue());
        }
        if (victims.size() < lossTolerance) {
          out.printf("5. (only %d node(s) hold shards and do not host the master; killed those)%n", victims.size());
        }
        out.flush();

        long tr = System.nanoTime();
        long back;
        long rowsBack;
        try (VectorSchemaRoot revealed = store.revealTable(key, allocator)) {
          double revealSecs = secs(tr);
          rowsBack = revealed.getRowCount();
          out.printf(Locale.ROOT, "6. revealed '%s' from the %d live nodes: %,d rows, %s; %.2f s, %.1f MB/s%n",
              key, nodes - victims.size(), rowsBack, Sizes.human(allocator.getAllocatedMemory()), revealSecs,
              r.size() / 1e6 / revealSecs);
          back = DemoTable.rowHash(revealed, 0);
        }
        boolean same = back == hash && rowsBack == rows;
        out.printf(Locale.ROOT, "7. the revealed table %s the original (row hash %016x, %,d rows)%n",
            same ? "equals" : "DIFFERS FROM", back, rowsBack);
        out.flush();
        store.remove(key);
        ok = same;
      }
    } finally {
      long ts = System.nanoTime();
      for (NodeLauncher.Node n : started) {
        if (n.process.isAlive()) {
          n.process.getOutputStream().close();
        }
      }
      for (NodeLauncher.Node n : started) {
        n.stop(20_000);
      }
      try {
        Runtime.getRuntime().removeShutdownHook(reaper);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down (Ctrl-C): the reaper runs
      }
      out.printf(Locale.ROOT, "8. stopped the nodes in %.1f s; demo %s in %.1f s%n", secs(ts), ok ? "succeeded" : "FAILED",
          secs(t0));
      if (ok && logDir == null) {
        deleteTree(logs);
      } else {
        out.printf("   node logs kept in %s%n", logs);
      }
      out.flush();
    }
    return ok ? ExitCodes.OK : ExitCodes.DATA_ERROR;
  }

  private static double secs(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static void deleteTree(Path root) {
    try (var s = Files.walk(root)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      // best effort
    }
  }
}
