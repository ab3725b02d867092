package io.runicquanta.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The child-JVM harness with a tiny child: READY parsing, logs, SIGKILL, SIGTERM, stdin close. */
class NodeProcessTest {
  /** The child: prints READY, echoes a line to stderr, then waits for stdin to close. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      if (args.length > 0 && args[0].equals("fail")) {
        System.err.println("child: cannot start, bad flag");
        System.exit(3);
      }
      System.out.println("starting");
      System.out.println("READY " + ProcessHandle.current().pid() + " node-" + args[0]);
      System.out.flush();
      System.err.println("child " + args[0] + " running");
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
      while (in.readLine() != null) {
        // until stdin closes
      }
      System.out.println("stdin closed");
      System.exit(0);
    }
  }

  private static NodeProcess.Builder child(String name, String arg) {
    return NodeProcess.builder(name, Child.class.getName()).args(arg).heap("32m");
  }

  @Test
  void readyLineLogsAndSigkill() throws Exception {
    try (NodeProcess p = child("np-a", "a").start()) {
      NodeProcess.Ready r = p.awaitReady(Duration.ofSeconds(60));
      assertEquals(p.pid(), r.pid());
      assertEquals("node-a", r.nodeId());
      assertTrue(p.isAlive());
      long until = System.nanoTime() + 30_000_000_000L;
      while (!Files.readString(p.stderrFile()).contains("child a running") && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertEquals(137, p.kill(), "SIGKILL exit status");
      assertFalse(p.isAlive());
      assertTrue(Files.readString(p.stdoutFile()).contains("READY " + r.pid()));
      assertTrue(Files.readString(p.stderrFile()).contains("child a running"));
    }
  }

  @Test
  void earlyExitNamesTheNodeAndItsStderr() {
    try (NodeProcess p = child("np-fail", "fail").start()) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> p.awaitReady(Duration.ofSeconds(60)));
      assertTrue(e.getMessage().contains("np-fail"), e.getMessage());
      assertTrue(e.getMessage().contains("exited with code 3"), e.getMessage());
      assertTrue(e.getMessage().contains("bad flag"), e.getMessage());
    }
  }

  @Test
  void stdinCloseAndSigtermStop() {
    try (NodeCluster c = NodeCluster.start(2, i -> child("np-c" + i, "c" + i), Duration.ofSeconds(90))) {
      assertEquals(2, c.alive().size());
      assertEquals("node-c1", c.node(1).nodeId());
      c.node(0).closeStdin();
      assertEquals(0, c.node(0).waitGone(Duration.ofSeconds(30)));
      c.node(1).stop(Duration.ofSeconds(30));
      assertFalse(c.node(1).isAlive());
      assertTrue(c.alive().isEmpty());
    }
  }

  @Test
  void closingAClusterKillsEveryChild() {
    NodeCluster c = NodeCluster.start(2, i -> child("np-k" + i, "k" + i), Duration.ofSeconds(90));
    c.close();
    for (NodeProcess p : c.nodes()) {
      assertFalse(p.isAlive(), p.toString());
    }
  }
}
