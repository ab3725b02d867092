package io.runicquanta.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

/**
 * Starts {@code rq node} processes from the running {@code rq} (the demo's grid): the same java, the
 * same classpath (the shaded jar or a build's classpath), the JDK {@code --add-opens} flags Ignite and
 * Arrow need, and {@code --exit-on-stdin-close} so that a node never outlives this process: its
 * stdin is a pipe held here. Logs go to {@code <logDir>/<name>.log}. (Tests use test-support's
 * {@code NodeProcess}, which does the same with JUnit-friendly errors.)
 */
final class NodeLauncher {
  private NodeLauncher() {}

  /** One started node. */
  static final class Node {
    final String name;
    final Process process;
    final Path log;
    final CompletableFuture<String> ready = new CompletableFuture<>();

    Node(String name, Process process, Path log) {
      this.name = name;
      this.process = process;
      this.log = log;
      Thread t = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            if (line.startsWith("READY ")) {
              String[] f = line.split(" ");
              ready.complete(f.length > 2 ? f[2] : "");
            }
          }
        } catch (IOException e) {
          // gone
        }
        ready.completeExceptionally(new IllegalStateException(
            "node " + name + " exited before it was ready; see " + log));
      }, "rq-demo-out-" + name);
      t.setDaemon(true);
      t.start();
    }

    /** Waits for READY and returns the node id. */
    String awaitReady(long timeoutMillis) throws Exception {
      try {
        return ready.get(timeoutMillis, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("node " + name + " not ready after " + timeoutMillis / 1000 + " s; see " + log);
      } catch (java.util.concurrent.ExecutionException e) {
        throw (Exception) e.getCause();
      }
    }

    /** Clean stop: close stdin, wait, then SIGKILL if needed. */
    void stop(long graceMillis) throws InterruptedException {
      try {
        process.getOutputStream().close();
      } catch (IOException e) {
        // already gone
      }
      if (!process.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** The JVM flags a node needs: rq.jvm.flags, else this JVM's --add-* options and its jar's Add-Opens. */
  static List<String> jvmFlags() {
    Set<String> out = new LinkedHashSet<>();
    String flags = System.getProperty("rq.jvm.flags", "");
    if (!flags.isBlank()) {
      out.addAll(List.of(flags.trim().split("\\s+")));
      return new ArrayList<>(out);
    }
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-opens") || a.startsWith("--add-exports")) {
        out.add(a);
      }
    }
    try {
      Path jar = Path.of(NodeLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isRegularFile(jar)) {
        try (JarFile jf = new JarFile(jar.toFile())) {
          String opens = jf.getManifest() == null ? null : jf.getManifest().getMainAttributes().getValue("Add-Opens");
          if (opens != null) {
            for (String o : opens.trim().split("\\s+")) {
              out.add("--add-opens=" + o + "=ALL-UNNAMED");
            }
          }
        }
      }
    } catch (IOException | URISyntaxException | SecurityException e) {
      // no jar: the flags from the command line are all there is
    }
    return new ArrayList<>(out);
  }

  /**
   * Starts one {@code rq node}.
   *
   * @param name node name
   * @param jvmOptions extra JVM options (heap, GC)
   * @param nodeArgs arguments after {@code node}
   * @param logDir where its log goes
   */
  static Node start(String name, List<String> jvmOptions, List<String> nodeArgs, Path logDir) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-DIGNITE_UPDATE_NOTIFIER=false");
    cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    cmd.addAll(jvmFlags());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(RqCli.class.getName());
    cmd.add("node");
    cmd.add("--name=" + name);
    cmd.add("--exit-on-stdin-close");
    cmd.addAll(nodeArgs);
    Files.createDirectories(logDir);
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
    pb.environment().put("IGNITE_UPDATE_NOTIFIER", "false");
    pb.environment().put("IPATH_NO_BACKTRACE", "1");
    return new Node(name, pb.start(), log);
  }
}
