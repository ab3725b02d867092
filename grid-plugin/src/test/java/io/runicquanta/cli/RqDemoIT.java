package io.runicquanta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.TestEnv;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./rq demo} as a user runs it (the launcher script and the shaded jar, whose node processes
 * get their JVM flags from the jar's manifest), with a smaller table: it must exit 0, say the
 * revealed table equals the original, show the local memory freed and leave no node process behind.
 */
class RqDemoIT {
  @Test
  @Timeout(400)
  void demoRunsOnSeparateNodeProcessesAndChecksTheTable() throws Exception {
    Path launcher = TestEnv.repoDir().resolve("rq");
    Path jar = TestEnv.repoDir().resolve("grid-plugin/target/rq.jar");
    TestEnv.requireOrSkip(Files.isRegularFile(jar), "rq.jar not built at " + jar);
    List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "demo", "--rows", "400000",
        "--discovery-port", "46250", "--comm-port", "46350", "--segment-size", "64m"));
    Path out = Files.createTempFile("rq-demo", ".out");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      assertTrue(p.waitFor(360, TimeUnit.SECONDS), "demo still running after 6 minutes");
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(0, p.exitValue(), text);
    assertTrue(text.contains("1. started 4 nodes"), text);
    assertTrue(text.contains("local Arrow memory:") && text.contains(", 0 B after (releaseSource"), text);
    assertTrue(text.contains("with SIGKILL: exit status 137"), text);
    assertTrue(text.contains("7. the revealed table equals the original"), text);
    assertTrue(text.contains("demo succeeded"), text);
    List<ProcessHandle> left = ProcessHandle.allProcesses()
        .filter(h -> h.info().commandLine().orElse("").contains("--discovery-port=46250"))
        .filter(ProcessHandle::isAlive).toList();
    left.forEach(ProcessHandle::destroyForcibly);
    assertTrue(left.isEmpty(), "node processes left behind: " + left);
  }
}
