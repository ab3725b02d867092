package io.runicquanta.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;

/**
 * Facts about the machine a test runs on, and the one rule for tests that need something it may
 * lack: skip with the reason on a developer machine, fail under CI ({@code CI=true}).
 */
public final class TestEnv {
  private TestEnv() {}

  /** True when running under CI ({@code CI=true} in the environment). */
  public static boolean isCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /**
   * Skips the calling test with {@code reason} when {@code available} is false; under CI the same
   * condition fails the test instead, because CI must run every vector, libfabric and multi-process
   * test.
   *
   * @throws AssertionError under CI when {@code available} is false
   */
  public static void requireOrSkip(boolean available, String reason) {
    if (available) {
      return;
    }
    if (isCi()) {
      throw new AssertionError("required under CI=true but unavailable: " + reason);
    }
    Assumptions.assumeTrue(false, reason);
  }

  /** The repository root (system property {@code rq.repo.dir}, set by the parent POM). */
  public static Path repoDir() {
    String p = System.getProperty("rq.repo.dir");
    return p == null ? Paths.get("").toAbsolutePath() : Paths.get(p);
  }

  /**
   * The shared test vectors folder ({@code ../shared/vectors} beside the repository, system
   * property {@code rq.vectors.dir}); skips (or fails under CI) when it is absent.
   */
  public static Path vectorsDir() {
    String p = System.getProperty("rq.vectors.dir");
    Path dir = p == null ? repoDir().resolve("../shared/vectors") : Paths.get(p);
    dir = dir.normalize();
    requireOrSkip(Files.isDirectory(dir), "test vectors folder not found at " + dir);
    return dir;
  }
}
