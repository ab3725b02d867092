package io.runicquanta.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One child JVM started by a test, typically an {@code rq node}: launched with this JVM's java, the
 * project's JVM flags ({@code rq.jvm.flags}) and this JVM's classpath, its standard output and error
 * captured into files, its {@code READY <pid> <nodeId>} line awaited, and killed with SIGKILL or
 * stopped with SIGTERM.
 *
 * <p>How no JVM is left behind: every started process is in a static registry that a JVM shutdown
 * hook kills (SIGKILL); {@link #close()} kills it too; and the child's standard input stays an open
 * pipe held by this JVM, so a child started with an "exit when stdin closes" option (as {@code rq
 * node --exit-on-stdin-close}) exits by itself even if this JVM is killed outright.
 *
 * <p>The child inherits this JVM's environment, so {@code RQ_GRID_PORT_SHIFT} keeps separate test
 * runs apart. Logs go to {@code <logDir>/<name>.out} and {@code .err}; the default log directory is
 * {@code node-logs} under {@code java.io.tmpdir}, which the build points into {@code target/}.
 *
 * <p>Thread safety: the methods may be called from any thread.
 */
public final class NodeProcess implements AutoCloseable {
  private static final Set<NodeProcess> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(NodeProcess::killAll, "node-process-reaper"));
  }

  /** What a child printed on its READY line. */
  public record Ready(long pid, String nodeId) {}

  private final String name;
  private final Process process;
  private final Path outFile;
  private final Path errFile;
  private final String readyPrefix;
  private final CompletableFuture<Ready> ready = new CompletableFuture<>();
  private final Deque<String> recentOut = new ArrayDeque<>();
  private final List<java.util.function.Consumer<String>> lineListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final OutputStream stdin;

  private NodeProcess(String name, Process process, Path outFile, Path errFile, String readyPrefix) {
    this.name = name;
    this.process = process;
    this.outFile = outFile;
    this.errFile = errFile;
    this.readyPrefix = readyPrefix;
    this.stdin = process.getOutputStream();
    LIVE.add(this);
    process.onExit().thenRun(() -> {
      LIVE.remove(this);
      ready.completeExceptionally(new IllegalStateException(
          "node " + name + " exited with code " + process.exitValue() + " before READY; "
              + describeLogs()));
    });
    Thread t = new Thread(this::pumpStdout, "node-out-" + name);
    t.setDaemon(true);
    t.start();
  }

  /**
   * @param name a name for logs and messages (also the log file names)
   * @param mainClass the class whose {@code main} the child runs
   * @return a builder
   */
  public static Builder builder(String name, String mainClass) {
    return new Builder(name, mainClass);
  }

  /**
   * The JVM flags the project's JVMs need (Ignite's and Arrow's {@code --add-opens}): the system
   * property {@code rq.jvm.flags} (the build passes it), else the {@code --add-*} options of this
   * JVM.
   */
  public static List<String> projectJvmFlags() {
    String flags = System.getProperty("rq.jvm.flags", "");
    if (!flags.isBlank()) {
      return Arrays.asList(flags.trim().split("\\s+"));
    }
    List<String> out = new ArrayList<>();
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-opens") || a.startsWith("--add-exports") || a.startsWith("--add-modules")) {
        out.add(a);
      }
    }
    return out;
  }

  /** Kills (SIGKILL) every child still running in this JVM; the shutdown hook calls it. */
  public static void killAll() {
    for (NodeProcess p : List.copyOf(LIVE)) {
      p.process.destroyForcibly();
    }
    for (NodeProcess p : List.copyOf(LIVE)) {
      try {
        p.process.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** @return children of this JVM that are still running */
  public static int liveCount() {
    return (int) LIVE.stream().filter(p -> p.process.isAlive()).count();
  }

  private void pumpStdout() {
    try (BufferedReader r = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter log = new PrintWriter(Files.newBufferedWriter(outFile, StandardCharsets.UTF_8), true)) {
      String line;
      while ((line = r.readLine()) != null) {
        log.println(line);
        synchronized (recentOut) {
          recentOut.addLast(line);
          if (recentOut.size() > 50) {
            recentOut.removeFirst();
          }
        }
        if (line.startsWith(readyPrefix) && !ready.isDone()) {
          String[] f = line.substring(readyPrefix.length()).trim().split("\\s+");
          try {
            ready.complete(new Ready(Long.parseLong(f[0]), f.length > 1 ? f[1] : ""));
          } catch (NumberFormatException e) {
            ready.completeExceptionally(new IllegalStateException(
                "node " + name + " printed a malformed READY line: " + line));
          }
        }
        for (var l : lineListeners) {
          l.accept(line);
        }
      }
    } catch (IOException e) {
      // the process is gone; onExit reports it
    }
  }

  /**
   * Waits for the READY line.
   *
   * @return the pid and node id it printed
   * @throws IllegalStateException if the process exits first or the timeout passes (the message
   *     holds the end of its logs)
   */
  public Ready awaitReady(Duration timeout) {
    try {
      return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "node " + name + " printed no READY line within " + timeout + "; " + describeLogs(), e);
    } catch (ExecutionException e) {
      throw (RuntimeException) e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for node " + name, e);
    }
  }

  /** Calls {@code listener} with every later line of the child's standard output. */
  public void onLine(java.util.function.Consumer<String> listener) {
    lineListeners.add(listener);
  }

  /** @return the name given to the builder */
  public String name() {
    return name;
  }

  /** @return the OS process id */
  public long pid() {
    return process.pid();
  }

  /** @return the node id from the READY line (waits up to 2 minutes for it) */
  public String nodeId() {
    return awaitReady(Duration.ofMinutes(2)).nodeId();
  }

  /** @return true while the process runs */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** @return the underlying process */
  public Process process() {
    return process;
  }

  /** @return file holding the child's standard output */
  public Path stdoutFile() {
    return outFile;
  }

  /** @return file holding the child's standard error */
  public Path stderrFile() {
    return errFile;
  }

  /**
   * Kills the process with SIGKILL ({@link Process#destroyForcibly()} on Linux) and waits until it
   * is gone.
   *
   * @return its exit code (137 after SIGKILL)
   */
  public int kill() {
    process.destroyForcibly();
    return waitGone(Duration.ofSeconds(30));
  }

  /**
   * Stops the process with SIGTERM (a clean node stop), killing it if it is still running after
   * {@code grace}.
   *
   * @return its exit code
   */
  public int stop(Duration grace) {
    process.destroy();
    try {
      if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        return process.exitValue();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return kill();
  }

  /** Closes the child's standard input (a node with {@code --exit-on-stdin-close} then stops). */
  public void closeStdin() {
    try {
      stdin.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Waits for the process to exit.
   *
   * @return its exit code
   * @throws IllegalStateException if it is still running after {@code timeout}
   */
  public int waitGone(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("node " + name + " still running after " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for node " + name + " to exit", e);
    }
    LIVE.remove(this);
    return process.exitValue();
  }

  /** @return the last lines of the child's standard output and error, for failure messages */
  public String describeLogs() {
    StringBuilder sb = new StringBuilder("logs ").append(outFile).append(", ").append(errFile);
    synchronized (recentOut) {
      if (!recentOut.isEmpty()) {
        sb.append("\n--- last stdout of ").append(name).append(" ---\n");
        recentOut.forEach(l -> sb.append(l).append('\n'));
      }
    }
    try {
      List<String> err = Files.exists(errFile) ? Files.readAllLines(errFile, StandardCharsets.UTF_8) : List.of();
      if (!err.isEmpty()) {
        sb.append("--- last stderr of ").append(name).append(" ---\n");
        err.subList(Math.max(0, err.size() - 30), err.size()).forEach(l -> sb.append(l).append('\n'));
      }
    } catch (IOException | UncheckedIOException e) {
      sb.append("(stderr unreadable: ").append(e.getMessage()).append(")");
    }
    return sb.toString();
  }

  /** Kills the process (SIGKILL) if it still runs. */
  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
    LIVE.remove(this);
  }

  @Override
  public String toString() {
    return "NodeProcess[" + name + ", pid " + process.pid() + (process.isAlive() ? "" : ", exited") + "]";
  }

  /** Builds and starts a {@link NodeProcess}. */
  public static final class Builder {
    private final String name;
    private final String mainClass;
    private final List<String> args = new ArrayList<>();
    private final List<String> jvmOptions = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private String heap = "256m";
    private String classpath = System.getProperty("java.class.path");
    private Path logDir = Path.of(System.getProperty("java.io.tmpdir"), "node-logs");
    private String readyPrefix = "READY ";

    private Builder(String name, String mainClass) {
      if (name == null || !name.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException("node name '" + name + "': use letters, digits, . _ -");
      }
      this.name = name;
      this.mainClass = mainClass;
    }

    /** Adds program arguments. */
    public Builder args(String... a) {
      args.addAll(Arrays.asList(a));
      return this;
    }

    /** Adds program arguments. */
    public Builder args(List<String> a) {
      args.addAll(a);
      return this;
    }

    /** Adds a JVM option (before the main class). */
    public Builder jvmOption(String option) {
      jvmOptions.add(option);
      return this;
    }

    /** Maximum heap, e.g. {@code 256m} (default). */
    public Builder heap(String xmx) {
      this.heap = xmx;
      return this;
    }

    /** Sets an environment variable of the child (the rest is inherited). */
    public Builder env(String key, String value) {
      env.put(key, value);
      return this;
    }

    /** Classpath of the child (default: this JVM's). */
    public Builder classpath(String cp) {
      this.classpath = cp;
      return this;
    }

    /** Directory for the log files (created). */
    public Builder logDir(Path dir) {
      this.logDir = dir;
      return this;
    }

    /** Prefix of the ready line (default {@code "READY "}). */
    public Builder readyPrefix(String prefix) {
      this.readyPrefix = prefix;
      return this;
    }

    /** @return the full command line the child is started with */
    public List<String> command() {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx" + heap);
      cmd.add("-XX:+UseSerialGC");
      cmd.add("-Xss1m");
      cmd.add("-DIGNITE_UPDATE_NOTIFIER=false");
      cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
      cmd.addAll(projectJvmFlags());
      cmd.addAll(jvmOptions);
      cmd.add("-cp");
      cmd.add(classpath);
      cmd.add(mainClass);
      cmd.addAll(args);
      return cmd;
    }

    /**
     * Starts the child (it does not wait for READY: see {@link NodeProcess#awaitReady}).
     *
     * @throws UncheckedIOException if the JVM cannot be started
     */
    public NodeProcess start() {
      try {
        Files.createDirectories(logDir);
        Path out = logDir.resolve(name + ".out");
        Path err = logDir.resolve(name + ".err");
        ProcessBuilder pb = new ProcessBuilder(command()).redirectError(err.toFile());
        pb.environment().put("IGNITE_UPDATE_NOTIFIER", "false");
        pb.environment().put("IPATH_NO_BACKTRACE", "1");
        pb.environment().putAll(env);
        return new NodeProcess(name, pb.start(), out, err, readyPrefix);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start node " + name, e);
      }
    }
  }
}
