package io.runicquanta.cli;

import io.runicquanta.codec.rqdir.RqDecodeResult;
import io.runicquanta.codec.rqdir.RqDirectoryDecoder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rq decode DIR OUT}: reads a directory written by rq or by the RQ library. */
@Command(
    name = "decode",
    mixinStandardHelpOptions = true,
    description = {
      "Decodes DIR (written by rq encode or the RQ library) into the file OUT.",
      "Missing symbol files and files whose content does not match their name are skipped as erasures;",
      "OUT is created only if every block decodes and matches its hash."
    })
final class DecodeCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DIR", description = "The encoded directory.")
  Path dir;

  @Parameters(index = "1", paramLabel = "OUT", description = "The file to write (must not exist).")
  Path output;

  @Option(names = "--layout", paramLabel = "FILE", description = "Layout file (default: DIR/_raptorq_layout.json).")
  Path layout;

  @Option(names = "--threads", description = "Worker threads (default: number of CPUs).")
  Integer threads;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    int t = threads == null ? CommandRuntime.defaultThreads() : threads;
    long start = System.nanoTime();
    RqDecodeResult r;
    try (CommandRuntime rt = new CommandRuntime(t)) {
      r = new RqDirectoryDecoder(rt.allocator, rt.executor, rt.threads).decode(dir, layout, output);
    }
    double secs = (System.nanoTime() - start) / 1e9;
    spec.commandLine().getOut().printf(
        "decoded %s into %s (%d bytes): %d block(s), %d of %d symbols used, %d missing, %d corrupt skipped,"
            + " %d retries; %.2f s, %.1f MB/s%n",
        dir, output, r.bytes(), r.blocks(), r.symbolsUsed(), r.symbolsListed(), r.missing(), r.corrupt(), r.retries(),
        secs, r.bytes() / 1e6 / secs);
    spec.commandLine().getOut().flush();
    return ExitCodes.OK;
  }
}
