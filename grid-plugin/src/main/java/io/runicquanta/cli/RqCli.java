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
 * The {@code rq} command: {@code node} runs a grid node; {@code stash}, {@code reveal}, {@code ls},
 * {@code rm} and {@code status} are clients of a running grid; {@code demo} starts a grid and shows
 * it; {@code encode} and {@code decode} work on files in the RQ library's directory format. Entry
 * point of {@code rq.jar}. Exit codes: {@link ExitCodes}.
 */
@Command(
    name = "rq",
    mixinStandardHelpOptions = true,
    versionProvider = RqCli.Version.class,
    description = {
      "Runic Quanta: Arrow data and files stored RaptorQ-coded (RFC 6330) across",
      "an Ignite grid.",
      "Exit codes: 0 ok, 1 data error (undecodable, corrupt, I/O), 2 usage or bad",
      "input, 3 no such key, 4 key already exists, 5 refused by the grid (too few",
      "nodes, no space),",
      "6 no grid or master answered in time, or nodes were lost during the operation."
    },
    subcommands = {
      NodeCommand.class, StashCommand.class, RevealCommand.class, LsCommand.class, RmCommand.class,
      StatusCommand.class, DemoCommand.class, EncodeCommand.class, DecodeCommand.class,
      CommandLine.HelpCommand.class
    })
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
    // Commands print through the command line's writer on the real stdout; what libraries (Ignite's
    // quiet-mode lines, banners) print to System.out goes to stderr, so stdout stays parseable.
    cl.setOut(new java.io.PrintWriter(
        new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true));
    System.setOut(System.err);
    System.setProperty("IGNITE_NO_ASCII", "true");
    boolean node = args.length > 0 && args[0].equals("node");
    if (!node) {
      // a client command: Ignite's own log (setup warnings, the stack traces of a failed join) is
      // noise to a person here; the command's error line names the cause. -Drq.debug=true keeps it.
      System.setProperty("org.slf4j.simpleLogger.log.org.apache.ignite",
          Boolean.getBoolean("rq.debug") ? "warn" : "off");
      System.setProperty("IGNITE_QUIET", "false");
    }
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
