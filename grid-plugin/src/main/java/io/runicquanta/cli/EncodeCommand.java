package io.runicquanta.cli;

import io.runicquanta.codec.rqdir.RqBlockLayout;
import io.runicquanta.codec.rqdir.RqDirectoryEncoder;
import io.runicquanta.codec.rqdir.RqEncodeOptions;
import io.runicquanta.codec.rqdir.RqLayout;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rq encode IN OUTDIR}: the RQ library's directory format, same bytes as the library. */
@Command(
    name = "encode",
    mixinStandardHelpOptions = true,
    description = {
      "Encodes a file into OUTDIR: _raptorq_layout.json plus block_<id>/<name> symbol files",
      "(4-byte payload id + T bytes, named by the base58 BLAKE3 of the file), as the RQ library does.",
      "Memory stays flat (about 25 MiB per thread) whatever the file size."
    })
final class EncodeCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "IN", description = "The file to encode.")
  Path input;

  @Parameters(index = "1", paramLabel = "OUTDIR", description = "Output directory (created; must not hold a layout).")
  Path outDir;

  @Option(names = "--symbol-size", defaultValue = "65535", description = "Symbol size P' in bytes, 1..65535 (default ${DEFAULT-VALUE}; T = P' rounded down to 8).")
  int symbolSize;

  @Option(names = "--redundancy", defaultValue = "4", description = "Redundancy factor, >= 1 (default ${DEFAULT-VALUE}: about 3 repair symbols per source symbol).")
  int redundancy;

  @Option(names = "--block-size", paramLabel = "BYTES", description = "Cut the file into blocks of this size (default: automatic from --max-memory).")
  Long blockSize;

  @Option(names = "--max-memory", paramLabel = "MB", defaultValue = "16384", description = "Memory budget in MiB the automatic block size derives from (default ${DEFAULT-VALUE}).")
  long maxMemoryMb;

  @Option(names = "--threads", description = "Worker threads (default: number of CPUs).")
  Integer threads;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (blockSize != null && blockSize < 1) {
      throw new IllegalArgumentException("--block-size = " + blockSize + ", expected >= 1");
    }
    RqEncodeOptions options = new RqEncodeOptions(symbolSize, redundancy, blockSize == null ? 0 : blockSize, maxMemoryMb);
    int t = threads == null ? CommandRuntime.defaultThreads() : threads;
    long start = System.nanoTime();
    RqLayout layout;
    try (CommandRuntime rt = new CommandRuntime(t)) {
      layout = new RqDirectoryEncoder(rt.allocator, rt.executor, rt.threads, options).encode(input, outDir);
    }
    double secs = (System.nanoTime() - start) / 1e9;
    long bytes = layout.totalSize();
    long source = 0;
    for (RqBlockLayout b : layout.blocks()) {
      source += b.oti().totalSourceSymbols();
    }
    RqBlockLayout first = layout.blocks().get(0);
    spec.commandLine().getOut().printf(
        "encoded %s (%d bytes) into %s: %d block(s), %d symbol files (%d source + %d repair), T = %d, Z = %d, N = %d;"
            + " %.2f s, %.1f MB/s%n",
        input, bytes, outDir, layout.blocks().size(), layout.totalSymbols(), source, layout.totalSymbols() - source,
        first.oti().symbolSize(), first.oti().sourceBlockCount(), first.oti().subBlockCount(), secs, bytes / 1e6 / secs);
    spec.commandLine().getOut().flush();
    return ExitCodes.OK;
  }
}
