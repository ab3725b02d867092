package io.runicquanta.codec.rqdir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.CorruptSymbolException;
import io.runicquanta.codec.InsufficientSymbolsException;
import io.runicquanta.codec.LayoutFormatException;
import io.runicquanta.codec.Oti;
import io.runicquanta.codec.PayloadId;
import io.runicquanta.testing.AllocatorExtension;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Round trips with erasures and corruption, and every kind of bad directory or layout. */
@ExtendWith(AllocatorExtension.class)
class RqDirectoryTest {
  private static ExecutorService pool;

  @BeforeAll
  static void startPool() {
    pool = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void stopPool() {
    pool.shutdownNow();
  }

  private static Path input(Path dir, long seed, long size) throws IOException {
    Path in = dir.resolve("input.bin");
    RqLibraryVectorsTest.writeSplitMix(in, seed, size);
    return in;
  }

  private static List<Path> symbolFiles(Path encoded) throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(encoded)) {
      s.filter(p -> Files.isRegularFile(p) && p.getParent().getFileName().toString().startsWith("block_"))
          .sorted()
          .forEach(out::add);
    }
    return out;
  }

  /** N = 2 sub-blocks (12 MiB at T = 65528), 30% of the files deleted, some flipped or truncated. */
  @Test
  void subBlockedRoundTripSurvivesErasuresAndCorruption(BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path in = input(tmp, 42, 12L << 20);
    Path enc = tmp.resolve("enc");
    RqLayout layout = new RqDirectoryEncoder(allocator, pool, 2, new RqEncodeOptions(65535, 2, 0, 16384)).encode(in, enc);
    Oti oti = layout.blocks().get(0).oti();
    assertEquals(2, oti.subBlockCount(), "this case must exercise sub-blocks");
    List<Path> files = symbolFiles(enc);
    assertEquals(layout.totalSymbols(), files.size());
    long seed = System.nanoTime();
    System.out.println("erasure seed " + seed);
    Random rnd = new Random(seed);
    Collections.shuffle(files, rnd);
    int deleted = files.size() * 3 / 10;
    for (int i = 0; i < deleted; i++) {
      Files.delete(files.get(i));
    }
    for (int i = deleted; i < deleted + 5; i++) { // flip a byte: content no longer matches the name
      byte[] b = Files.readAllBytes(files.get(i));
      b[rnd.nextInt(b.length)] ^= 0x5A;
      Files.write(files.get(i), b);
    }
    byte[] t = Files.readAllBytes(files.get(deleted + 5));
    Files.write(files.get(deleted + 5), java.util.Arrays.copyOf(t, 1000)); // truncated
    Path out = tmp.resolve("out.bin");
    RqDecodeResult r = new RqDirectoryDecoder(allocator, pool, 2).decode(enc, null, out);
    assertArrayEquals(Files.readAllBytes(in), Files.readAllBytes(out), "seed " + seed);
    assertTrue(r.symbolsUsed() >= oti.sourceSymbols(0));
  }

  /** Z = 2 source blocks (symbols of 16 bytes, Al = 1): files sorted by the SBN of their payload id. */
  @Test
  void severalSourceBlocksRoundTrip(BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path in = input(tmp, 7, 1_000_000);
    Path enc = tmp.resolve("enc");
    RqLayout layout = new RqDirectoryEncoder(allocator, pool, 2, new RqEncodeOptions(16, 1, 0, 16384)).encode(in, enc);
    Oti oti = layout.blocks().get(0).oti();
    assertEquals(2, oti.sourceBlockCount());
    assertEquals(1, oti.alignment());
    Path out = tmp.resolve("out.bin");
    new RqDirectoryDecoder(allocator, pool, 2).decode(enc, null, out);
    assertArrayEquals(Files.readAllBytes(in), Files.readAllBytes(out));
    // no repair symbols at redundancy 1: losing one source symbol of SBN 1 is fatal, and says where
    String victim = layout.blocks().get(0).symbols().get(oti.sourceSymbols(0) + 3);
    Files.delete(enc.resolve("block_0").resolve(victim));
    Path out2 = tmp.resolve("out2.bin");
    InsufficientSymbolsException e =
        assertThrows(InsufficientSymbolsException.class, () -> new RqDirectoryDecoder(allocator, pool, 2).decode(enc, null, out2));
    assertTrue(e.getMessage().contains("block 0 (source block 1)"), e.getMessage());
    assertTrue(e.getMessage().contains("K = " + oti.sourceSymbols(1)), e.getMessage());
    assertFalse(Files.exists(out2));
  }

  @Test
  void tooFewSymbolsNamesTheBlockAndCountsAndLeavesNoOutput(BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path in = input(tmp, 3, 3_000_000);
    Path enc = tmp.resolve("enc");
    RqLayout layout =
        new RqDirectoryEncoder(allocator, pool, 2, new RqEncodeOptions(65535, 2, 1_000_000, 16384)).encode(in, enc);
    assertEquals(3, layout.blocks().size());
    RqBlockLayout b1 = layout.blocks().get(1);
    int k = b1.oti().sourceSymbols(0);
    for (int i = 0; i < b1.symbols().size() - (k - 1); i++) {
      Files.delete(enc.resolve("block_1").resolve(b1.symbols().get(i)));
    }
    Path out = tmp.resolve("out.bin");
    InsufficientSymbolsException e =
        assertThrows(InsufficientSymbolsException.class, () -> new RqDirectoryDecoder(allocator, pool, 2).decode(enc, null, out));
    assertTrue(e.getMessage().startsWith("block 1 cannot be decoded: K = " + k), e.getMessage());
    assertTrue(e.getMessage().contains("only " + (k - 1) + " usable"), e.getMessage());
    assertEquals(k - 1, e.usableSymbols());
    assertFalse(Files.exists(out));
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no temporary files left");
    }
  }

  private static Path copyLibraryCase(Path tmp) throws IOException {
    Path src = io.runicquanta.testing.TestEnv.vectorsDir().resolve("rq-library/unchunked_1KiB/encoded");
    Path dst = tmp.resolve("copy");
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path q = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q);
          q.toFile().setWritable(true);
        }
      }
    }
    return dst;
  }

  /** Replaces the first listed symbol by a file that matches its own name but not the layout. */
  private static void plant(Path dir, byte[] content) throws IOException {
    String name = SymbolName.of(content);
    Files.write(dir.resolve("block_0").resolve(name), content);
    Path layout = dir.resolve(RqLayout.FILE_NAME);
    String json = Files.readString(layout);
    String first = RqLayout.read(layout).blocks().get(0).symbols().get(0);
    Files.writeString(layout, json.replace(first, name));
  }

  @Test
  void symbolOfWrongSizeIsRejected(BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path dir = copyLibraryCase(tmp);
    plant(dir, new byte[100]);
    Path out = tmp.resolve("out.bin");
    CorruptSymbolException e =
        assertThrows(CorruptSymbolException.class, () -> new RqDirectoryDecoder(allocator, pool, 1).decode(dir, null, out));
    assertTrue(e.getMessage().contains("is 100 bytes, expected 65532"), e.getMessage());
    assertFalse(Files.exists(out));
  }

  @Test
  void symbolOfAnotherBlockIsRejected(BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path dir = copyLibraryCase(tmp);
    byte[] content = new byte[65532];
    new PayloadId(1, 0).writeTo(content, 0);
    plant(dir, content);
    Path out = tmp.resolve("out.bin");
    CorruptSymbolException e =
        assertThrows(CorruptSymbolException.class, () -> new RqDirectoryDecoder(allocator, pool, 1).decode(dir, null, out));
    assertTrue(e.getMessage().contains("has payload id (SBN 1, ESI 0) but is listed for source block 0"), e.getMessage());
    assertFalse(Files.exists(out));
  }

  @Test
  void missingAndCorruptFilesAreErasures(BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path dir = copyLibraryCase(tmp);
    RqBlockLayout b = RqLayout.read(dir.resolve(RqLayout.FILE_NAME)).blocks().get(0);
    Files.delete(dir.resolve("block_0").resolve(b.symbols().get(0)));
    Path flipped = dir.resolve("block_0").resolve(b.symbols().get(1));
    byte[] c = Files.readAllBytes(flipped);
    c[10] ^= 1;
    Files.write(flipped, c);
    Path out = tmp.resolve("out.bin");
    RqDecodeResult r = new RqDirectoryDecoder(allocator, pool, 1).decode(dir, null, out);
    assertEquals(1, r.missing());
    assertEquals(1, r.corrupt());
    assertArrayEquals(
        Files.readAllBytes(io.runicquanta.testing.TestEnv.vectorsDir().resolve("rq-library/unchunked_1KiB/input.bin")),
        Files.readAllBytes(out));
  }

  @Test
  void blockHashMismatchFailsWithoutOutput(BufferAllocator allocator, @TempDir Path tmp) throws IOException {
    Path dir = copyLibraryCase(tmp);
    Path layout = dir.resolve(RqLayout.FILE_NAME);
    String hash = RqLayout.read(layout).blocks().get(0).hash();
    String other = SymbolName.of(new byte[] {1, 2, 3});
    Files.writeString(layout, Files.readString(layout).replace(hash, other));
    Path out = tmp.resolve("out.bin");
    io.runicquanta.codec.CodecException e =
        assertThrows(io.runicquanta.codec.CodecException.class, () -> new RqDirectoryDecoder(allocator, pool, 2).decode(dir, null, out));
    assertTrue(e.getMessage().contains("decoded bytes have BLAKE3 " + hash + " but the layout's hash is " + other), e.getMessage());
    assertFalse(Files.exists(out));
  }

  @Test
  void malformedLayoutsNameTheProblem() {
    assertLayoutError("{\"blocks\": [{\"block_id\": 0, \"encoder", "not valid layout JSON");
    assertLayoutError("", "empty layout file");
    assertLayoutError("[1,2]", "expected an object");
    assertLayoutError("{\"blocks\": []}", "\"blocks\" is empty");
    String ok = "{\"blocks\": [{\"block_id\": 0, \"encoder_parameters\": [0,0,0,4,0,0,255,248,1,0,1,8],"
        + " \"original_offset\": 0, \"size\": 1024, \"symbols\": [\"abc\"], \"hash\": \"xyz\"}]}";
    assertEquals(1024, parse(ok).totalSize());
    assertLayoutError(ok.replace("255,248,1,0,1,8", "255,248,1,0,1,3"), "Al (symbol alignment) = 3 does not divide T = 65528");
    assertLayoutError(ok.replace("255,248,1,0,1,8", "255,248,0,0,1,8"), "Z (source blocks) = 0");
    assertLayoutError(ok.replace("[0,0,0,4,0,0,", "[0,0,0,4,0,"), "expected an array of 12 integers");
    assertLayoutError(ok.replace("[0,0,0,4,0,0,", "[0,0,0,4,0,300,"), "[5] = 300, expected an integer 0..255");
    assertLayoutError(ok.replace("\"size\": 1024", "\"size\": 1000"), "F = 1024 bytes but size is 1000");
    assertLayoutError(ok.replace("\"original_offset\": 0", "\"original_offset\": 5"), "original_offset 5, expected 0");
    assertLayoutError(ok.replace("\"abc\"", "\"../../etc/passwd\""), "expected a base58 symbol name");
    assertLayoutError(ok.replace("\"abc\"", "\"abc\", \"abc\""), "listed twice");
    assertLayoutError(ok.replace("\"block_id\": 0, ", ""), "missing field \"block_id\"");
  }

  private static RqLayout parse(String json) {
    try {
      return RqLayout.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test.json");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void assertLayoutError(String json, String fragment) {
    LayoutFormatException e = assertThrows(LayoutFormatException.class, () -> parse(json));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }

  @Test
  void refusesToOverwriteLayoutsOrOutputsAndRejectsMissingOrEmptyInput(BufferAllocator allocator, @TempDir Path tmp)
      throws IOException {
    RqDirectoryEncoder encoder = new RqDirectoryEncoder(allocator, pool, 1, RqEncodeOptions.defaults());
    Path in = input(tmp, 1, 5000);
    Path enc = tmp.resolve("enc");
    encoder.encode(in, enc);
    assertThrows(FileAlreadyExistsException.class, () -> encoder.encode(in, enc));
    assertThrows(NoSuchFileException.class, () -> encoder.encode(tmp.resolve("nope.bin"), tmp.resolve("e2")));
    Path empty = Files.createFile(tmp.resolve("empty.bin"));
    assertThrows(IllegalArgumentException.class, () -> encoder.encode(empty, tmp.resolve("e3")));
    Path out = tmp.resolve("out.bin");
    Files.write(out, new byte[] {1});
    assertThrows(FileAlreadyExistsException.class, () -> new RqDirectoryDecoder(allocator, pool, 1).decode(enc, null, out));
    assertArrayEquals(new byte[] {1}, Files.readAllBytes(out));
  }

  @Test
  void base58MatchesKnownValues() {
    assertEquals("", Base58.encode(new byte[0]));
    assertEquals("11", Base58.encode(new byte[2]));
    assertEquals("5Q", Base58.encode(new byte[] {(byte) 0xFF}));
    assertEquals("StV1DL6CwTryKyV", Base58.encode("hello world".getBytes(StandardCharsets.US_ASCII)));
    assertTrue(Base58.isBase58("StV1DL6CwTryKyV"));
    assertFalse(Base58.isBase58("0OIl"));
    assertFalse(Base58.isBase58("a/b"));
  }

  @Test
  void layoutJsonIsByteExactForEmptySymbolListsToo() {
    RqLayout l = new RqLayout(List.of(new RqBlockLayout(0, Oti.of(10, 64, 1, 1, 8), 0, 10, List.of(), "h")));
    assertTrue(l.toJson().contains("\"symbols\": [],\n      \"hash\": \"h\"\n    }\n  ]\n}"), l.toJson());
    assertEquals(l, parse(l.toJson()));
  }
}
