package io.runicquanta.cli;

import io.runicquanta.plugin.ClusterStatus;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code rq status}: nodes, segments, free space, objects and health of the grid. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Shows the grid: server nodes, the master's address, every mounted segment (node, alive,"
          + " transport, size, free, shards), totals, objects and objects below their loss tolerance."
    })
final class StatusCommand implements Callable<Integer> {
  @Mixin ClientOptions grid;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    ClusterStatus s;
    try (GridClient c = grid.connect()) {
      s = c.store().status();
    }
    print(s, spec.commandLine().getOut());
    return ExitCodes.OK;
  }

  static void print(ClusterStatus s, PrintWriter out) {
    out.printf(Locale.ROOT, "nodes: %d server node(s); master at %s%n", s.nodes(), s.masterAddress());
    out.printf(Locale.ROOT, "%-44s %-36s %-5s %-9s %12s %12s %7s%n", "SEGMENT", "NODE", "ALIVE", "TRANSPORT", "SIZE", "FREE", "SHARDS");
    for (ClusterStatus.SegmentStatus g : s.segments()) {
      out.printf(Locale.ROOT, "%-44s %-36s %-5s %-9s %12s %12s %7d%n", g.name(), g.nodeId(), g.alive() ? "yes" : "NO",
          g.transport(), Sizes.human(g.sizeBytes()), Sizes.human(g.freeBytes()), g.shards());
    }
    out.printf(Locale.ROOT, "segments: %d, %s in all, %s free (%d bytes)%n", s.segments().size(), Sizes.human(s.totalBytes()),
        Sizes.human(s.freeBytes()), s.freeBytes());
    long dead = s.segments().stream().filter(g -> !g.alive()).count();
    out.printf(Locale.ROOT, "objects: %d, %d below their loss tolerance%n", s.objects(), s.degradedObjects());
    out.printf(Locale.ROOT, "health: %s%n", s.degradedObjects() == 0 && dead == 0 ? "HEALTHY"
        : s.degradedObjects() == 0 ? "HEALTHY objects, " + dead + " segment(s) on nodes that are gone" : "DEGRADED");
    out.flush();
  }
}
