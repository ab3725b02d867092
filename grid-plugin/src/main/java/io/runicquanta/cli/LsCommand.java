package io.runicquanta.cli;

import io.runicquanta.plugin.ObjectStat;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code rq ls [PATTERN]}: the stored objects. */
@Command(
    name = "ls",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Lists the complete objects whose whole key matches PATTERN (an RE2 regular expression,"
          + " e.g. 'trips/.*'; default: all), sorted by key, with size, type, blocks, loss tolerance"
          + " m, node losses survivable now, and health (HEALTHY, DEGRADED, LOST)."
    })
final class LsCommand implements Callable<Integer> {
  @Parameters(index = "0", arity = "0..1", paramLabel = "PATTERN", description = "Regular expression the whole key must match.")
  String pattern;

  @Mixin ClientOptions grid;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    List<ObjectStat> objects;
    try (GridClient c = grid.connect()) {
      objects = c.store().list(pattern);
    }
    print(objects, spec.commandLine().getOut());
    return ExitCodes.OK;
  }

  static void print(List<ObjectStat> objects, PrintWriter out) {
    int w = 3;
    for (ObjectStat o : objects) {
      w = Math.max(w, Math.min(60, o.key().length()));
    }
    out.printf(Locale.ROOT, "%-" + w + "s %14s %-12s %6s %3s %4s %s%n", "KEY", "BYTES", "TYPE", "BLOCKS", "M", "NOW", "HEALTH");
    long total = 0;
    for (ObjectStat o : objects) {
      out.printf(Locale.ROOT, "%-" + w + "s %14d %-12s %6d %3d %4d %s%s%n", o.key(), o.size(), o.contentType(),
          o.blocks(), o.lossTolerance(), o.tolerableNow(), o.health(), o.repairing() ? " (repairing)" : "");
      total += o.size();
    }
    out.printf(Locale.ROOT, "%d object(s), %d bytes%n", objects.size(), total);
    out.flush();
  }
}
