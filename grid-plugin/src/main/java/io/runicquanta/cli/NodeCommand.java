package io.runicquanta.cli;

import io.runicquanta.plugin.RqPlugin;
import io.runicquanta.plugin.RqPluginConfiguration;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteState;
import org.apache.ignite.Ignition;
import org.apache.ignite.IgnitionListener;
import org.apache.ignite.configuration.IgniteConfiguration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rq node}: one Ignite server node with the Runic Quanta plugin, configured from flags and an
 * optional properties file ({@code --config}, keys are the long option names without dashes; a flag
 * on the command line wins over the file). Prints {@code READY <pid> <nodeId>} on standard output
 * once it has joined, its segment is mounted and the store works; runs until SIGTERM or SIGINT (a
 * clean stop: unmount, leave the grid, free memory) or, with {@code --exit-on-stdin-close}, until
 * standard input closes (how test harnesses make sure no node outlives them). Either way the stop
 * runs in one JVM shutdown hook (Ignite's own hook is disabled), which prints {@code STOPPED
 * <name>} when done. If Ignite stops the
 * node on its own (a failure handler, segmentation), the process exits with code 1.
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs a server node of the grid: an Ignite node with the Runic Quanta plugin, offering a"
          + " segment of off-heap memory for shards and able to host the master. Prints 'READY <pid>"
          + " <nodeId>' once joined; stops cleanly on SIGTERM or Ctrl-C. Every option can also be"
          + " given in a properties file (--config), key = long option name without the dashes (e.g."
          + " segment-size=1g); the command line wins over the file. RQ_GRID_PORT_SHIFT, if set, is"
          + " added to every discovery and communication port."
    })
final class NodeCommand implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", description = "Properties file with any of the options below.")
  Path config;

  @Option(names = "--name", description = "Node name (default: rq-node-<pid>).")
  String name;

  @Option(names = {"-d", "--discovery-addresses"}, paramLabel = "HOST[:PORT[..PORT]],...",
      description = "Discovery addresses of the grid's nodes, this one's included"
          + " (default: 127.0.0.1:<discovery-port>..<discovery-port + port-range - 1>).")
  String discoveryAddresses;

  @Option(names = "--discovery-port", description = "First discovery port to listen on (default 47500).")
  Integer discoveryPort;

  @Option(names = "--comm-port", description = "First communication port to listen on (default 47100).")
  Integer commPort;

  @Option(names = "--port-range", description = "Ports tried in each range (default 10).")
  Integer portRange;

  @Option(names = "--local-host", description = "Address to bind and advertise, for Ignite and the transfer engine (default 127.0.0.1).")
  String localHost;

  @Option(names = "--segment-size", paramLabel = "BYTES", converter = Sizes.class, description = "Off-heap segment offered for shards, e.g. 256m, 4g; 0 stores nothing (default 256m).")
  Long segmentSize;

  @Option(names = "--transport", description = "Transfer transport: local (one JVM), tcp or fabric (default tcp).")
  String transport;

  @Option(names = "--rails", description = "Transfer rails (connections, NICs) per peer, 1..64 (default 1).")
  Integer rails;

  @Option(names = "--transport-option", paramLabel = "KEY=VALUE", description = "Transport option, repeatable (e.g. tcp.stallMillis=5000, fabric.provider=verbs;ofi_rxm); in the file comma-separated.")
  List<String> transportOptions;

  @Option(names = "--failure-domain", description = "Failure domain (rack, host) of this node; shards of a block go to distinct domains (default: none).")
  String failureDomain;

  @Option(names = "--host-master", arity = "1", description = "Whether this node may host the master, true or false (default true).")
  Boolean hostMaster;

  @Option(names = "--master-port", description = "gRPC port of the master when it runs here, 0 for any free port (default 0).")
  Integer masterPort;

  @Option(names = "--master-backups", description = "Backup copies of the master's layouts: they survive this many simultaneous node losses; keep it >= the largest m (default 2).")
  Integer masterBackups;

  @Option(names = "--loss-tolerance", description = "Default loss tolerance m for stashes through this node (default 1).")
  Integer lossTolerance;

  @Option(names = "--block-size", paramLabel = "BYTES", converter = Sizes.class, description = "Default block size (default 8m).")
  Long blockSize;

  @Option(names = "--symbol-size", description = "Default symbol size T, 1..65535 (default 65532).")
  Integer symbolSize;

  @Option(names = "--max-memory", paramLabel = "BYTES", converter = Sizes.class, description = "Off-heap cap for stash, reveal and repair work (default 256m).")
  Long maxMemory;

  @Option(names = "--region-size", paramLabel = "BYTES", converter = Sizes.class, description = "Ignite data region cap for the master's caches (default 64m).")
  Long regionSize;

  @Option(names = "--repair-interval", paramLabel = "MILLIS", description = "How often the repairer (on the master's node) looks for degraded objects besides right after a node loss; 0 turns self-healing off (default 5000).")
  Long repairInterval;

  @Option(names = "--repair-bandwidth", paramLabel = "BYTES", converter = Sizes.class, description = "Cap on the bytes per second self-healing writes, at least 1m (default 64m).")
  Long repairBandwidth;

  @Option(names = "--failure-detection-timeout", paramLabel = "SECONDS", description = "Ignite failure detection timeout; raise it on busy machines (default 10).")
  Integer failureDetectionTimeout;

  @Option(names = "--exit-on-stdin-close", arity = "0..1", description = "Stop cleanly when standard input closes (for supervisors and tests).")
  Boolean exitOnStdinClose;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Every key a config file may hold: the long option names without dashes. */
  static final Set<String> KEYS = new TreeSet<>(List.of(
      "name", "discovery-addresses", "discovery-port", "comm-port", "port-range", "local-host",
      "segment-size", "transport", "rails", "transport-option", "failure-domain", "host-master",
      "master-port", "master-backups", "loss-tolerance", "block-size", "symbol-size", "max-memory", "region-size",
      "repair-interval", "repair-bandwidth", "exit-on-stdin-close", "failure-detection-timeout"));

  /** The settings after flags, file and defaults are merged. */
  record Resolved(
      String name, GridSettings grid, RqPluginConfiguration plugin, boolean exitOnStdinClose,
      int failureDetectionSeconds) {}

  @Override
  public Integer call() throws Exception {
    Resolved r = resolve();
    return run(r, spec.commandLine().getOut(), spec.commandLine().getErr());
  }

  /** Merges flags, the config file and defaults, checking every value. */
  Resolved resolve() throws IOException {
    Map<String, String> file = config == null ? Map.of() : readConfig(config);
    Merge m = new Merge(file, config);
    String nodeName = m.get("name", name, s -> s, "rq-node-" + ProcessHandle.current().pid());
    if (!nodeName.matches("[A-Za-z0-9._-]{1,100}")) {
      throw new IllegalArgumentException("name = '" + nodeName + "', expected 1..100 of A-Z a-z 0-9 . _ -");
    }
    String host = m.get("local-host", localHost, s -> s, "127.0.0.1");
    GridSettings grid = new GridSettings(
        m.get("discovery-port", discoveryPort, Integer::parseInt, GridSettings.DEFAULT_DISCOVERY_PORT),
        m.get("comm-port", commPort, Integer::parseInt, GridSettings.DEFAULT_COMM_PORT),
        m.get("port-range", portRange, Integer::parseInt, GridSettings.DEFAULT_PORT_RANGE),
        GridSettings.splitAddresses(m.get("discovery-addresses", discoveryAddresses, s -> s, null)),
        host,
        Math.max(16, m.get("region-size", regionSize, v -> Sizes.parse("region-size", v), 64L << 20) >> 20));
    String t = m.get("transport", transport, s -> s, "tcp");
    if (!List.of("local", "tcp", "fabric").contains(t)) {
      throw new IllegalArgumentException("transport = '" + t + "', expected local, tcp or fabric");
    }
    RqPluginConfiguration.Builder b = RqPluginConfiguration.builder()
        .segmentSize(m.get("segment-size", segmentSize, v -> Sizes.parse("segment-size", v), 256L << 20))
        .transport(t)
        .rails(m.get("rails", rails, Integer::parseInt, 1))
        .failureDomain(m.get("failure-domain", failureDomain, s -> s, ""))
        .hostMaster(m.get("host-master", hostMaster, NodeCommand::parseBoolean, true))
        .masterPort(m.get("master-port", masterPort, Integer::parseInt, 0))
        .masterBackups(m.get("master-backups", masterBackups, Integer::parseInt, 2))
        .lossTolerance(m.get("loss-tolerance", lossTolerance, Integer::parseInt, 1))
        .blockSize(m.get("block-size", blockSize, v -> Sizes.parse("block-size", v), 8L << 20))
        .symbolSize(m.get("symbol-size", symbolSize, Integer::parseInt, 65532))
        .maxMemory(m.get("max-memory", maxMemory, v -> Sizes.parse("max-memory", v), 256L << 20))
        .repairIntervalMillis(m.get("repair-interval", repairInterval, Long::parseLong, 5_000L))
        .repairBytesPerSecond(m.get("repair-bandwidth", repairBandwidth,
            v -> Sizes.parse("repair-bandwidth", v), 64L << 20));
    if (t.equals("tcp")) {
      b.transportOption("tcp.host", host);
    } else if (t.equals("fabric") && !host.equals("127.0.0.1")) {
      b.transportOption("fabric.node", host);
    }
    List<String> opts = transportOptions != null ? transportOptions
        : file.containsKey("transport-option") ? List.of(file.get("transport-option").split(",")) : List.of();
    for (String o : opts) {
      int eq = o.indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException("transport-option = '" + o + "', expected KEY=VALUE");
      }
      b.transportOption(o.substring(0, eq).trim(), o.substring(eq + 1).trim());
    }
    boolean exitOnClose = m.get("exit-on-stdin-close", exitOnStdinClose, NodeCommand::parseBoolean, false);
    int fdt = m.get("failure-detection-timeout", failureDetectionTimeout, Integer::parseInt, 10);
    if (fdt < 1 || fdt > 600) {
      throw new IllegalArgumentException("failure-detection-timeout = " + fdt + ", expected 1..600 seconds");
    }
    return new Resolved(nodeName, grid, b.build(), exitOnClose, fdt);
  }

  static boolean parseBoolean(String v) {
    String s = v.trim().toLowerCase(java.util.Locale.ROOT);
    if (s.equals("true") || s.equals("yes") || s.equals("1")) {
      return true;
    }
    if (s.equals("false") || s.equals("no") || s.equals("0")) {
      return false;
    }
    throw new IllegalArgumentException("'" + v + "' is not a boolean, expected true or false");
  }

  /** Reads a config file, rejecting keys that are not options. */
  static Map<String, String> readConfig(Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    Map<String, String> out = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    for (String k : p.stringPropertyNames()) {
      String key = k.startsWith("--") ? k.substring(2) : k;
      if (!KEYS.contains(key)) {
        unknown.add(k);
      }
      out.put(key, p.getProperty(k).trim());
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          file + ": unknown key(s) " + unknown + "; expected some of " + KEYS);
    }
    return out;
  }

  /** Flag, else file, else default; a bad value names its source. */
  private record Merge(Map<String, String> file, Path path) {
    <T> T get(String key, T flag, Function<String, T> parse, T dflt) {
      if (flag != null) {
        return flag;
      }
      String v = file.get(key);
      if (v == null) {
        return dflt;
      }
      try {
        return parse.apply(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(path + ": " + key + " = '" + v + "' is not a number");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
      }
    }
  }

  /** Starts the node, prints READY, and blocks until it is told to stop. */
  static int run(Resolved r, PrintWriter out, PrintWriter err) throws InterruptedException {
    // Only this command's hook stops the node on SIGTERM/SIGINT, so the stop is always the clean
    // one below (Ignite's own hook would race it and look like a stop Ignite chose itself).
    System.setProperty("IGNITE_NO_SHUTDOWN_HOOK", "true");
    IgniteConfiguration c = r.grid().igniteConfiguration(r.name(), false, 0);
    c.setPluginConfigurations(r.plugin());
    c.setFailureDetectionTimeout(r.failureDetectionSeconds() * 1000L);
    CountDownLatch stop = new CountDownLatch(1);
    boolean[] stopping = {false};
    IgnitionListener lsnr = (instance, state) -> {
      if (r.name().equals(instance) && state != IgniteState.STARTED) {
        synchronized (stopping) {
          if (!stopping[0]) {
            err.println("rq node: Ignite stopped node " + r.name() + " (" + state + "); exiting");
            err.flush();
            Runtime.getRuntime().halt(ExitCodes.DATA_ERROR);
          }
        }
      }
    };
    Ignite ignite = Ignition.start(c);
    Ignition.addListener(lsnr);
    Thread hook = new Thread(() -> {
      synchronized (stopping) {
        stopping[0] = true;
      }
      err.println("rq node: stopping " + r.name());
      err.flush();
      try {
        ignite.close();
        err.println("rq node: stopped " + r.name());
        out.println("STOPPED " + r.name());
        out.flush();
      } catch (Throwable t) {
        err.println("rq node: stopping " + r.name() + " failed: " + t);
        t.printStackTrace(err);
      } finally {
        err.flush();
      }
    }, "rq-node-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    RqPlugin.of(ignite).store();
    String nodeId = ignite.cluster().localNode().id().toString();
    out.println("READY " + ProcessHandle.current().pid() + " " + nodeId);
    out.flush();
    err.println("rq node: " + r.name() + " (" + nodeId + ") joined " + ignite.cluster().forServers().nodes().size()
        + " server node(s); discovery " + r.grid().effectiveAddresses() + "; " + r.plugin());
    err.flush();
    if (r.exitOnStdinClose()) {
      Thread t = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
          while (in.readLine() != null) {
            // run until the parent closes our stdin
          }
        } catch (IOException e) {
          // treat as closed
        }
        stop.countDown();
      }, "rq-node-stdin");
      t.setDaemon(true);
      t.start();
    }
    stop.await();
    // stdin closed: exit through the JVM's shutdown, whose hook above stops the node cleanly. Not
    // by running the hook here: Process.destroy() in a parent sends SIGTERM *and* closes our stdin,
    // and a shutdown started by the signal would not wait for a stop running on this thread.
    System.exit(ExitCodes.OK);
    return ExitCodes.OK;
  }
}
