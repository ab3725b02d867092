package io.runicquanta.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code rq} command: subcommands {@code encode}, {@code decode} and {@code demo}. Later
 * subcommands (node, stash, reveal, ls, rm, status) attach here. Entry point of {@code rq.jar}.
 */
@Command(
    name = "rq",
    mixinStandardHelpOptions = true,
    versionProvider = RqCli.Version.class,
    description = {
      "Runic Quanta: RFC 6330 RaptorQ erasure coding of files, in the RQ library's directory format.",
      "Exit codes: 0 ok, 1 data error (undecodable, corrupt, inconsistent), 2 usage or bad input."
    },
    subcommands = {EncodeCommand.class, DecodeCommand.class, DemoCommand.class, CommandLine.HelpCommand.class})
public final class RqCli implements Callable<Integer> {

  @Option(
      names = "--report-rss",
      hidden = true,
      scope = ScopeType.INHERIT,
      description = "At exit, print the peak resident set size (VmHWM) to stderr.")
  boolean reportRss;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  /** Builds the command line with the project's exception and exit code handling. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new RqCli());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          cmd.getErr().println("rq " + cmd.getCommandName() + ": error: " + ExitCodes.message(ex));
          if (Boolean.getBoolean("rq.debug")) {
            ex.printStackTrace(cmd.getErr());
          }
          return ExitCodes.of(ex);
        });
    cl.setExitCodeExceptionMapper(ExitCodes::of);
    return cl;
  }

  /** Runs {@code rq} and exits with its code. */
  public static void main(String[] args) {
    CommandLine cl = commandLine();
    int code = cl.execute(args);
    boolean report = false;
    for (String a : args) {
      report |= a.equals("--report-rss");
    }
    if (report) {
      cl.getErr().println("rq: peak RSS (VmHWM) " + peakRssKib() + " kB");
      cl.getErr().flush();
    }
    System.exit(code);
  }

  /** VmHWM of this process in KiB from /proc/self/status, or -1 where /proc is not available. */
  static long peakRssKib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /** The version from the jar manifest, or "dev". */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = RqCli.class.getPackage().getImplementationVersion();
      return new String[] {"rq " + (v == null ? "dev" : v)};
    }
  }
}
