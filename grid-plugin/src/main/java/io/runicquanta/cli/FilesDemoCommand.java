package io.runicquanta.cli;

import io.runicquanta.codec.rqdir.RqBlockLayout;
import io.runicquanta.codec.rqdir.RqDecodeResult;
import io.runicquanta.codec.rqdir.RqDirectoryDecoder;
import io.runicquanta.codec.rqdir.RqDirectoryEncoder;
import io.runicquanta.codec.rqdir.RqEncodeOptions;
import io.runicquanta.codec.rqdir.RqLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rq demo files}: the codec alone, end to end on this machine, without a grid: generates a
 * file, encodes it, deletes a share of the symbol files, decodes and checks the result is
 * byte-identical, with timings against a plain file copy measured in the same run.
 */
@Command(
    name = "files",
    mixinStandardHelpOptions = true,
    description = {
      "Round-trips a generated file through encode and decode with symbol files deleted",
      "(erasure recovery), checks the result is byte-identical and prints timings."
    })
final class FilesDemoCommand implements Callable<Integer> {
  @Option(names = "--size", paramLabel = "BYTES", defaultValue = "33554432", description = "Size of the generated file (default ${DEFAULT-VALUE}).")
  long size;

  @Option(names = "--redundancy", defaultValue = "2", description = "Redundancy factor (default ${DEFAULT-VALUE}).")
  int redundancy;

  @Option(names = "--lose", paramLabel = "PERCENT", defaultValue = "30", description = "Share of symbol files to delete, 0..99 (default ${DEFAULT-VALUE}).")
  int losePercent;

  @Option(names = "--seed", defaultValue = "20260101", description = "Seed of the data and of the deletions (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--dir", description = "Work directory (default: a new temporary directory, removed afterwards).")
  Path dir;

  @Option(names = "--keep", description = "Keep the work directory.")
  boolean keep;

  @Option(names = "--threads", description = "Worker threads (default: number of CPUs).")
  Integer threads;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (size < 1) {
      throw new IllegalArgumentException("--size = " + size + ", expected >= 1");
    }
    if (losePercent < 0 || losePercent > 99) {
      throw new IllegalArgumentException("--lose = " + losePercent + ", expected 0..99");
    }
    PrintWriter out = spec.commandLine().getOut();
    Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("rq-demo-");
    try {
      Path input = work.resolve("input.bin");
      Path encoded = work.resolve("encoded");
      Path decoded = work.resolve("decoded.bin");
      long t0 = System.nanoTime();
      generate(input, size, seed);
      out.printf("1. generated %s: %d bytes of seeded random data (%.2f s)%n", input, size, secs(t0));

      long tc = System.nanoTime();
      Path copy = work.resolve("copy.bin");
      Files.copy(input, copy, StandardCopyOption.REPLACE_EXISTING);
      double copySecs = secs(tc);
      Files.delete(copy);
      out.printf("   baseline: plain file copy %.2f s (%.0f MB/s)%n", copySecs, size / 1e6 / copySecs);

      int t = threads == null ? CommandRuntime.defaultThreads() : threads;
      RqEncodeOptions options = new RqEncodeOptions(65535, redundancy, 0, RqEncodeOptions.DEFAULT_MAX_MEMORY_MB);
      RqLayout layout;
      long te = System.nanoTime();
      try (CommandRuntime rt = new CommandRuntime(t)) {
        layout = new RqDirectoryEncoder(rt.allocator, rt.executor, t, options).encode(input, encoded);
      }
      double encSecs = secs(te);
      RqBlockLayout b0 = layout.blocks().get(0);
      out.printf(
          "2. encoded into %s: %d symbol files in %d block(s), T = %d, Z = %d, N = %d sub-blocks (%.2f s, %.0f MB/s, %.1fx the copy time)%n",
          encoded, layout.totalSymbols(), layout.blocks().size(), b0.oti().symbolSize(), b0.oti().sourceBlockCount(),
          b0.oti().subBlockCount(), encSecs, size / 1e6 / encSecs, encSecs / copySecs);

      Random rnd = new Random(seed);
      long deleted = 0;
      for (RqBlockLayout b : layout.blocks()) {
        List<String> names = new ArrayList<>(b.symbols());
        Collections.shuffle(names, rnd);
        int lose = (int) ((long) names.size() * losePercent / 100);
        for (int i = 0; i < lose; i++) {
          Files.delete(encoded.resolve(b.directoryName()).resolve(names.get(i)));
        }
        deleted += lose;
      }
      out.printf("3. deleted %d of %d symbol files (%d%% of each block, chosen at random with seed %d)%n",
          deleted, layout.totalSymbols(), losePercent, seed);

      long td = System.nanoTime();
      RqDecodeResult r;
      try (CommandRuntime rt = new CommandRuntime(t)) {
        r = new RqDirectoryDecoder(rt.allocator, rt.executor, t).decode(encoded, null, decoded);
      }
      double decSecs = secs(td);
      out.printf("4. decoded into %s from %d symbols (%d listed files missing; %.2f s, %.0f MB/s, %.1fx the copy time)%n",
          decoded, r.symbolsUsed(), r.missing(), decSecs, size / 1e6 / decSecs, decSecs / copySecs);

      boolean same = sameContent(input, decoded);
      out.printf("5. decoded file is %s the input%n", same ? "byte-identical to" : "DIFFERENT from");
      out.flush();
      return same ? ExitCodes.OK : ExitCodes.DATA_ERROR;
    } finally {
      if (!keep && dir == null) {
        deleteTree(work);
      } else {
        out.printf("work directory kept: %s%n", work);
        out.flush();
      }
    }
  }

  private static double secs(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static void generate(Path file, long size, long seed) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] chunk = new byte[1 << 20];
    try (OutputStream os = Files.newOutputStream(file)) {
      for (long done = 0; done < size; ) {
        for (int i = 0; i < chunk.length; i += 8) {
          long v = rnd.nextLong();
          for (int b = 0; b < 8; b++) {
            chunk[i + b] = (byte) (v >>> (8 * b));
          }
        }
        int n = (int) Math.min(chunk.length, size - done);
        os.write(chunk, 0, n);
        done += n;
      }
    }
  }

  private static boolean sameContent(Path a, Path b) throws IOException {
    if (Files.size(a) != Files.size(b)) {
      return false;
    }
    byte[] x = new byte[1 << 20];
    byte[] y = new byte[1 << 20];
    try (InputStream ia = Files.newInputStream(a);
        InputStream ib = Files.newInputStream(b)) {
      while (true) {
        int n = ia.readNBytes(x, 0, x.length);
        int m = ib.readNBytes(y, 0, y.length);
        if (n != m || !java.util.Arrays.equals(x, 0, n, y, 0, m)) {
          return false;
        }
        if (n == 0) {
          return true;
        }
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
