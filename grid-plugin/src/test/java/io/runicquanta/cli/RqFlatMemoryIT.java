package io.runicquanta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.rqdir.RqLayout;
import io.runicquanta.testing.SplitMix64;
import io.runicquanta.testing.TestEnv;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 256 MiB round trip through the {@code rq} launcher script (so through its JVM options and the
 * shaded jar's manifest), each run a separate JVM that reports its own peak RSS (VmHWM): memory
 * must stay flat, below 384 MiB, although the file is one block of 4097 source symbols in 26
 * sub-blocks (redundancy 2: 512 MiB of symbol files; the sub-block geometry, which decides the
 * memory, does not depend on the redundancy).
 */
class RqFlatMemoryIT {
  private static final long SIZE = 256L << 20;
  private static final long RSS_LIMIT_KIB = 384L * 1024;
  private static final Pattern RSS = Pattern.compile("peak RSS \\(VmHWM\\) (\\d+) kB");

  @TempDir Path tmp;

  @Test
  void encodeAndDecode256MiBInFlatMemory() throws Exception {
    Path launcher = TestEnv.repoDir().resolve("rq");
    Path jar = TestEnv.repoDir().resolve("grid-plugin/target/rq.jar");
    TestEnv.requireOrSkip(Files.isRegularFile(jar), "rq.jar not built at " + jar);
    Path in = tmp.resolve("in.bin");
    SplitMix64 rng = new SplitMix64(0x5253534954L);
    byte[] chunk = new byte[1 << 20];
    try (OutputStream os = Files.newOutputStream(in)) {
      for (long done = 0; done < SIZE; done += chunk.length) {
        rng.nextBytes(chunk);
        os.write(chunk);
      }
    }
    Path enc = tmp.resolve("enc");
    long encRss = run(launcher, "encode", in.toString(), enc.toString(), "--redundancy", "2", "--report-rss");
    RqLayout layout = RqLayout.read(enc.resolve(RqLayout.FILE_NAME));
    assertTrue(layout.blocks().get(0).oti().subBlockCount() > 1, "the case must use sub-blocks");
    // lose a quarter of the symbol files: the decoder must read further and still fit
    List<String> names = new ArrayList<>(layout.blocks().get(0).symbols());
    for (int i = 0; i < names.size(); i += 4) {
      Files.delete(enc.resolve("block_0").resolve(names.get(i)));
    }
    Path out = tmp.resolve("out.bin");
    long decRss = run(launcher, "decode", enc.toString(), out.toString(), "--report-rss");
    System.out.printf("256 MiB: encode peak RSS %d KiB, decode peak RSS %d KiB%n", encRss, decRss);
    assertTrue(encRss < RSS_LIMIT_KIB, "encode peak RSS " + encRss + " KiB, expected < " + RSS_LIMIT_KIB);
    assertTrue(decRss < RSS_LIMIT_KIB, "decode peak RSS " + decRss + " KiB, expected < " + RSS_LIMIT_KIB);
    assertEquals(SIZE, Files.size(out));
    assertTrue(sameContent(in, out), "decoded file differs from the input");
    Files.delete(out);
    Files.delete(in);
  }

  /** `java -jar rq.jar` needs no flags: the manifest opens what Arrow (and later Ignite) need. */
  @Test
  void jarManifestCarriesTheAddOpensList() throws IOException {
    Path jar = TestEnv.repoDir().resolve("grid-plugin/target/rq.jar");
    TestEnv.requireOrSkip(Files.isRegularFile(jar), "rq.jar not built at " + jar);
    try (java.util.jar.JarFile jf = new java.util.jar.JarFile(jar.toFile())) {
      java.util.jar.Attributes a = jf.getManifest().getMainAttributes();
      assertEquals("io.runicquanta.cli.RqCli", a.getValue("Main-Class"));
      List<String> opens = Arrays.asList(a.getValue("Add-Opens").split(" "));
      assertTrue(opens.contains("java.base/java.nio"), "Add-Opens: " + opens);
      assertTrue(opens.contains("java.base/sun.nio.ch"), "Add-Opens: " + opens);
      assertTrue(opens.stream().noneMatch(o -> o.contains("=")), "Add-Opens: " + opens);
    }
  }

  private static long run(Path launcher, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash", launcher.toString()));
    cmd.addAll(Arrays.asList(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] output;
    try (InputStream is = p.getInputStream()) {
      output = is.readAllBytes();
    }
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "rq " + args[0] + " timed out");
    String text = new String(output, StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(0, p.exitValue(), text);
    Matcher m = RSS.matcher(text);
    assertTrue(m.find(), "no RSS report in: " + text);
    return Long.parseLong(m.group(1));
  }

  private static boolean sameContent(Path a, Path b) throws IOException {
    byte[] x = new byte[1 << 20];
    byte[] y = new byte[1 << 20];
    try (InputStream ia = Files.newInputStream(a);
        InputStream ib = Files.newInputStream(b)) {
      while (true) {
        int n = ia.readNBytes(x, 0, x.length);
        int m = ib.readNBytes(y, 0, y.length);
        if (n != m || !Arrays.equals(x, 0, n, y, 0, m)) {
          return false;
        }
        if (n == 0) {
          return true;
        }
      }
    }
  }
}
