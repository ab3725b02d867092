package io.runicquanta.codec.rqdir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.SplitMix64;
import io.runicquanta.testing.TestEnv;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Rust RQ library's own outputs (vectors/rq-library and vectors/rq-library-layouts): our
 * encoder writes the same layout JSON byte for byte and the same symbol files (names and bytes),
 * and our decoder reads the library's directories back to the input.
 */
@ExtendWith(AllocatorExtension.class)
class RqLibraryVectorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ExecutorService pool;

  @BeforeAll
  static void startPool() {
    pool = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void stopPool() {
    pool.shutdownNow();
  }

  static Stream<String> libraryCases() throws IOException {
    return list("rq-library");
  }

  static Stream<String> layoutCases() throws IOException {
    return list("rq-library-layouts");
  }

  private static Stream<String> list(String set) throws IOException {
    Path dir = TestEnv.vectorsDir().resolve(set);
    TestEnv.requireOrSkip(Files.isDirectory(dir), "no " + set + " vectors at " + dir);
    try (Stream<Path> s = Files.list(dir)) {
      List<String> names =
          s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
      return names.stream();
    }
  }

  static RqEncodeOptions options(JsonNode params) {
    JsonNode bs = params.get("block_size");
    long blockSize = bs.isNumber() ? bs.asLong() : 0;
    return new RqEncodeOptions(
        params.get("symbol_size").asInt(), params.get("redundancy").asInt(), blockSize, params.get("max_memory_mb").asLong());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("libraryCases")
  void encodesTheLibrarysFilesByteForByte(String name, BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path dir = TestEnv.vectorsDir().resolve("rq-library").resolve(name);
    JsonNode params = JSON.readTree(dir.resolve("params.json").toFile());
    Path out = tmp.resolve("encoded");
    new RqDirectoryEncoder(allocator, pool, 2, options(params)).encode(dir.resolve("input.bin"), out);
    Path expected = dir.resolve("encoded");
    assertArrayEquals(
        Files.readAllBytes(expected.resolve(RqLayout.FILE_NAME)), Files.readAllBytes(out.resolve(RqLayout.FILE_NAME)),
        "layout JSON bytes");
    Map<String, byte[]> want = tree(expected);
    Map<String, byte[]> got = tree(out);
    assertEquals(want.keySet(), got.keySet(), "the same files");
    for (Map.Entry<String, byte[]> e : want.entrySet()) {
      assertArrayEquals(e.getValue(), got.get(e.getKey()), e.getKey());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("libraryCases")
  void decodesTheLibrarysDirectory(String name, BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path dir = TestEnv.vectorsDir().resolve("rq-library").resolve(name);
    Path out = tmp.resolve("decoded.bin");
    RqDecodeResult r = new RqDirectoryDecoder(allocator, pool, 2).decode(dir.resolve("encoded"), null, out);
    assertArrayEquals(Files.readAllBytes(dir.resolve("input.bin")), Files.readAllBytes(out));
    assertEquals(Files.size(out), r.bytes());
    assertEquals(0, r.missing() + r.corrupt());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layoutCases")
  void largeInputsGiveTheLibrarysLayout(String name, BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path dir = TestEnv.vectorsDir().resolve("rq-library-layouts").resolve(name);
    JsonNode params = JSON.readTree(dir.resolve("params.json").toFile());
    JsonNode input = params.get("input");
    Path in = tmp.resolve("input.bin");
    writeSplitMix(in, Long.parseUnsignedLong(input.get("seed").asText().substring(2), 16), input.get("size").asLong());
    Path out = tmp.resolve("encoded");
    new RqDirectoryEncoder(allocator, pool, 2, options(params)).encode(in, out);
    assertArrayEquals(
        Files.readAllBytes(dir.resolve(RqLayout.FILE_NAME)), Files.readAllBytes(out.resolve(RqLayout.FILE_NAME)),
        "layout JSON bytes (every symbol name is the BLAKE3 of its file, so every file matches too)");
    RqLayout layout = RqLayout.read(out.resolve(RqLayout.FILE_NAME));
    for (RqBlockLayout b : layout.blocks()) {
      String first = b.symbols().get(0);
      assertEquals(first, SymbolName.of(Files.readAllBytes(out.resolve(b.directoryName()).resolve(first))));
    }
  }

  static void writeSplitMix(Path file, long seed, long size) throws IOException {
    SplitMix64 rng = new SplitMix64(seed);
    byte[] chunk = new byte[1 << 20];
    try (OutputStream os = Files.newOutputStream(file)) {
      for (long done = 0; done < size; ) {
        int n = (int) Math.min(chunk.length, size - done);
        if (n < chunk.length) {
          chunk = new byte[n];
        }
        rng.nextBytes(chunk);
        os.write(chunk, 0, n);
        done += n;
      }
    }
  }

  private static Map<String, byte[]> tree(Path root) throws IOException {
    Map<String, byte[]> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
        out.put(root.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return out;
  }
}
