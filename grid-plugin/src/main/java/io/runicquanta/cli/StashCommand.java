package io.runicquanta.cli;

import io.runicquanta.plugin.StashOptions;
import io.runicquanta.plugin.StashResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rq stash FILE --key K}: stores a file in the grid, erasure-coded over the nodes. */
@Command(
    name = "stash",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Stores FILE in the grid under KEY, RaptorQ-coded over the nodes so that it survives the"
          + " loss of --loss-tolerance nodes. An Arrow IPC file or stream is recorded as Arrow data"
          + " (Flight and revealTable can read it); any file is revealed byte-identical. The key is"
          + " visible only once the whole file is stored."
    })
final class StashCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE", description = "The file to store.")
  Path file;

  @Option(names = {"-k", "--key"}, required = true, description = "Key of the object (1 to 1024 UTF-8 bytes).")
  String key;

  @Option(names = {"-m", "--loss-tolerance"}, description = "Node losses the object must survive (default: the nodes' setting, 1).")
  Integer lossTolerance;

  @Option(names = "--block-size", paramLabel = "BYTES", converter = Sizes.class, description = "Source block size, e.g. 8m (default: the nodes' setting).")
  Long blockSize;

  @Option(names = "--symbol-size", description = "Symbol size T in bytes, 1..65535 (default: the nodes' setting).")
  Integer symbolSize;

  @Option(names = "--progress", negatable = true, description = "Show a progress bar on stderr (default: when stderr is a terminal).")
  Boolean progress;

  @Mixin ClientOptions grid;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "not found or not a regular file");
    }
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("--key must not be empty");
    }
    StashOptions o = StashOptions.defaults();
    if (lossTolerance != null) {
      if (lossTolerance < 0) {
        throw new IllegalArgumentException("--loss-tolerance = " + lossTolerance + ", expected >= 0");
      }
      o = o.lossTolerance(lossTolerance);
    }
    if (blockSize != null) {
      o = o.blockSize(blockSize);
    }
    if (symbolSize != null) {
      if (symbolSize < 1 || symbolSize > 65535) {
        throw new IllegalArgumentException("--symbol-size = " + symbolSize + ", expected 1..65535");
      }
      o = o.symbolSize(symbolSize);
    }
    long size = Files.size(file);
    ProgressBar bar = new ProgressBar("stash " + key, spec.commandLine().getErr(),
        progress != null ? progress : ProgressBar.isTerminal());
    o = o.progress((done, total) -> bar.update(done, total < 0 ? size : total));
    StashResult r;
    try (GridClient c = grid.connect()) {
      try {
        r = c.store().stash(key, file, o);
      } finally {
        bar.finish();
      }
    }
    double secs = r.nanos() / 1e9;
    spec.commandLine().getOut().printf(Locale.ROOT,
        "stashed %s as '%s': %d bytes in %d block(s), %d bytes stored (%.2fx), survives %d node loss(es); %.2f s, %.1f MB/s%n",
        file, r.key(), r.size(), r.blocks(), r.storedBytes(), size == 0 ? 0.0 : r.storedBytes() / (double) size,
        r.lossTolerance(), secs, secs > 0 ? r.size() / 1e6 / secs : 0.0);
    spec.commandLine().getOut().flush();
    return ExitCodes.OK;
  }
}
