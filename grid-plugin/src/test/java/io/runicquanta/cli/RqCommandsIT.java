package io.runicquanta.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.cli.RqCliTest.Run;
import io.runicquanta.testing.NodeProcess;
import io.runicquanta.testing.SplitMix64;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client commands against three real {@code rq node} processes: stash, ls, status, reveal,
 * rm, with the exit codes for a missing key (3), an existing key (4), a loss tolerance the grid
 * cannot give (5); then a node stopped with SIGTERM leaves cleanly, and one whose stdin closes
 * stops with exit 0.
 */
class RqCommandsIT {
  @TempDir Path tmp;

  private static Run rq(NodeGrid g, String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    a.addAll(List.of(g.clientFlags()));
    return RqCliTest.rq(a.toArray(String[]::new));
  }

  @Test
  @Timeout(400)
  void stashLsStatusRevealRmAgainstNodeProcesses() throws Exception {
    try (NodeGrid g = NodeGrid.start("cmd", 3, 46240, 46340, "48m")) {
      Path in = Files.write(tmp.resolve("in.bin"), SplitMix64.bytes(11, 3_000_017));

      Run stash = rq(g, "stash", in.toString(), "--key", "cli/one", "--loss-tolerance", "1",
          "--block-size", "1m", "--symbol-size", "8192");
      assertEquals(0, stash.code(), stash.err());
      assertTrue(stash.out().contains("stashed " + in + " as 'cli/one': 3000017 bytes"), stash.out());

      Run again = rq(g, "stash", in.toString(), "--key", "cli/one");
      assertEquals(4, again.code(), again.err());
      assertTrue(again.err().contains("rq stash: error: ALREADY_EXISTS"), again.err());

      Run tooMany = rq(g, "stash", in.toString(), "--key", "cli/m5", "--loss-tolerance", "5");
      assertEquals(5, tooMany.code(), tooMany.err());

      Run ls = rq(g, "ls", "cli/.*");
      assertEquals(0, ls.code(), ls.err());
      assertTrue(ls.out().contains("cli/one"), ls.out());
      assertTrue(ls.out().contains("HEALTHY"), ls.out());
      assertTrue(ls.out().contains("1 object(s), 3000017 bytes"), ls.out());
      assertFalse(ls.out().contains("cli/m5"), "a refused stash is not listed");

      Run status = rq(g, "status");
      assertEquals(0, status.code(), status.err());
      assertTrue(status.out().contains("nodes: 3 server node(s)"), status.out());
      assertTrue(status.out().contains("segments: 3"), status.out());
      assertTrue(status.out().contains("objects: 1, 0 below their loss tolerance"), status.out());

      Path out = tmp.resolve("out.bin");
      Run reveal = rq(g, "reveal", "cli/one", out.toString());
      assertEquals(0, reveal.code(), reveal.err());
      assertArrayEquals(Files.readAllBytes(in), Files.readAllBytes(out));

      Path none = tmp.resolve("none.bin");
      Run missing = rq(g, "reveal", "cli/none", none.toString());
      assertEquals(3, missing.code(), missing.err());
      assertTrue(missing.err().contains("NOT_FOUND"), missing.err());
      assertFalse(Files.exists(none), "no output file after a failed reveal");
      try (Stream<Path> s = Files.list(tmp)) {
        assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".rq-part")), "no temporary left");
      }

      Run rm = rq(g, "rm", "cli/one");
      assertEquals(0, rm.code(), rm.err());
      Run rmAgain = rq(g, "rm", "cli/one");
      assertEquals(3, rmAgain.code(), rmAgain.err());
      assertTrue(rmAgain.err().contains("no object with key 'cli/one'"), rmAgain.err());
      Run empty = rq(g, "ls");
      assertTrue(empty.out().contains("0 object(s)"), empty.out());

      NodeProcess last = g.cluster.node(2);
      int code = last.stop(Duration.ofSeconds(90));
      assertFalse(last.isAlive());
      // 143 (the signal) or 0 (Process.destroy also closes stdin, and --exit-on-stdin-close may win the
      // race); never 137 (still running after 90 s, killed) or 1 (Ignite stopped it on its own)
      assertTrue(code == 143 || code == 0,
          "exit status " + code + " after SIGTERM; " + last.describeLogs());
      assertTrue(Files.readString(last.stderrFile()).contains("rq node: stopped cmd-2"),
          "SIGTERM stops the node cleanly; " + last.describeLogs());
      long until = System.nanoTime() + 60_000_000_000L;
      Run after;
      do {
        after = rq(g, "status");
      } while (!after.out().contains("nodes: 2 server node(s)") && System.nanoTime() < until);
      assertTrue(after.out().contains("nodes: 2 server node(s)"), after.out());

      // --exit-on-stdin-close: the node stops cleanly when its parent's pipe closes
      NodeProcess second = g.cluster.node(1);
      second.closeStdin();
      assertEquals(0, second.waitGone(Duration.ofSeconds(60)), second.describeLogs());
      assertTrue(Files.readString(second.stdoutFile()).contains("STOPPED cmd-1"), second.describeLogs());
    }
  }
}
