package io.runicquanta.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.PayloadId;
import io.runicquanta.codec.rqdir.RqLayout;
import io.runicquanta.codec.rqdir.SymbolName;
import io.runicquanta.testing.SplitMix64;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The rq command line in process: exit codes and messages for good and bad input. */
class RqCliTest {
  @TempDir Path tmp;

  record Run(int code, String out, String err) {}

  static Run rq(String... args) {
    CommandLine cl = RqCli.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private Path input(String name, int size) throws IOException {
    Path p = tmp.resolve(name);
    Files.write(p, SplitMix64.bytes(size, size));
    return p;
  }

  /** Encodes a 200 kB file with 1280-byte symbols (K = 157, R = 157). */
  private Path encoded() throws IOException {
    Path in = input("in.bin", 200_000);
    Path dir = tmp.resolve("enc");
    Run r = rq("encode", in.toString(), dir.toString(), "--symbol-size", "1280", "--redundancy", "2", "--threads", "2");
    assertEquals(0, r.code(), r.err());
    return dir;
  }

  private static String s(Path p) {
    return p.toString();
  }

  @Test
  void roundTrip() throws IOException {
    Path dir = encoded();
    Path out = tmp.resolve("out.bin");
    Run r = rq("decode", s(dir), s(out));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("decoded"), r.out());
    assertArrayEquals(Files.readAllBytes(tmp.resolve("in.bin")), Files.readAllBytes(out));
  }

  @Test
  void helpAndUsage() {
    for (String cmd : List.of("encode", "decode", "demo")) {
      Run r = rq(cmd, "--help");
      assertEquals(0, r.code());
      assertTrue(r.out().contains("Usage: rq " + cmd), r.out());
    }
    Run none = rq();
    assertEquals(2, none.code());
    assertTrue(none.err().contains("Commands:"), none.err());
    Run bad = rq("encode", "a", "b", "--bogus");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("Unknown option: '--bogus'"), bad.err());
    Run missingArg = rq("decode", "onlyone");
    assertEquals(2, missingArg.code());
    assertTrue(missingArg.err().contains("Missing required parameter: 'OUT'"), missingArg.err());
  }

  @Test
  void missingInputFile() {
    Path nope = tmp.resolve("nope.bin");
    Run r = rq("encode", s(nope), s(tmp.resolve("enc")));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("rq encode: error: " + nope + ": input file does not exist"), r.err());
  }

  @Test
  void badOptionValues() throws IOException {
    Path in = input("in.bin", 10);
    Run r = rq("encode", s(in), s(tmp.resolve("e")), "--symbol-size", "70000");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("symbol size = 70000, expected 1..65535"), r.err());
    Run r2 = rq("encode", s(in), s(tmp.resolve("e")), "--redundancy", "0");
    assertEquals(2, r2.code());
    assertTrue(r2.err().contains("redundancy = 0, expected >= 1"), r2.err());
    Run r3 = rq("encode", s(in), s(tmp.resolve("e")), "--threads", "x");
    assertEquals(2, r3.code());
    assertTrue(r3.err().contains("Invalid value for option '--threads'"), r3.err());
  }

  @Test
  void outputDirectoryWithAnotherLayout() throws IOException {
    Path dir = encoded();
    Path other = input("other.bin", 5000);
    Run r = rq("encode", s(other), s(dir));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("output directory already holds a layout"), r.err());
    assertTrue(Files.exists(dir.resolve(RqLayout.FILE_NAME)));
  }

  @Test
  void outputFileThatExists() throws IOException {
    Path dir = encoded();
    Path out = Files.writeString(tmp.resolve("out.bin"), "keep me");
    Run r = rq("decode", s(dir), s(out));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("output file already exists"), r.err());
    assertEquals("keep me", Files.readString(out));
  }

  @Test
  void truncatedLayout() throws IOException {
    Path dir = encoded();
    Path layout = dir.resolve(RqLayout.FILE_NAME);
    byte[] json = Files.readAllBytes(layout);
    Files.write(layout, java.util.Arrays.copyOf(json, json.length / 2));
    assertDataError(dir, "not valid layout JSON");
  }

  @Test
  void malformedLayout() throws IOException {
    Path dir = encoded();
    Files.writeString(dir.resolve(RqLayout.FILE_NAME), "{\"blocks\": \"nope\"}");
    assertDataError(dir, "\"blocks\" is a STRING, expected an array");
  }

  @Test
  void otiOutOfRange() throws IOException {
    Path dir = encoded();
    Path layout = dir.resolve(RqLayout.FILE_NAME);
    // Al = 8 -> 3 (does not divide T = 1280): the last OTI byte in the JSON
    String json = Files.readString(layout).replaceFirst("(\"encoder_parameters\": \\[(?:\\s*\\d+,){11}\\s*)8", "$13");
    Files.writeString(layout, json);
    assertDataError(dir, "Al (symbol alignment) = 3 does not divide T = 1280");
  }

  @Test
  void layoutGivenSeparately() throws IOException {
    Path dir = encoded();
    Path moved = tmp.resolve("layout.json");
    Files.move(dir.resolve(RqLayout.FILE_NAME), moved);
    Path out = tmp.resolve("out.bin");
    Run missing = rq("decode", s(dir), s(out));
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("layout file not found"), missing.err());
    Run r = rq("decode", s(dir), s(out), "--layout", s(moved));
    assertEquals(0, r.code(), r.err());
  }

  private void plant(Path dir, byte[] content) throws IOException {
    String name = SymbolName.of(content);
    Files.write(dir.resolve("block_0").resolve(name), content);
    Path layout = dir.resolve(RqLayout.FILE_NAME);
    String first = RqLayout.read(layout).blocks().get(0).symbols().get(0);
    Files.writeString(layout, Files.readString(layout).replace(first, name));
  }

  @Test
  void symbolFileOfWrongSize() throws IOException {
    Path dir = encoded();
    plant(dir, new byte[1000]);
    assertDataError(dir, "is 1000 bytes, expected 1284");
  }

  @Test
  void symbolFileOfAnotherBlock() throws IOException {
    Path dir = encoded();
    byte[] c = new byte[1284];
    new PayloadId(2, 5).writeTo(c, 0);
    plant(dir, c);
    assertDataError(dir, "has payload id (SBN 2, ESI 5) but is listed for source block 0");
  }

  @Test
  void tooFewSymbols() throws IOException {
    Path dir = encoded();
    List<String> names = RqLayout.read(dir.resolve(RqLayout.FILE_NAME)).blocks().get(0).symbols();
    for (int i = 0; i < names.size() - 150; i++) {
      Files.delete(dir.resolve("block_0").resolve(names.get(i)));
    }
    assertDataError(dir, "block 0 cannot be decoded: K = 157 source symbols, 314 symbol files listed, only 150 usable (164 missing");
  }

  private void assertDataError(Path dir, String fragment) throws IOException {
    Path out = tmp.resolve("decoded.bin");
    Run r = rq("decode", s(dir), s(out));
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().startsWith("rq decode: error: "), r.err());
    assertTrue(r.err().contains(fragment), r.err());
    assertFalse(Files.exists(out), "no output on failure");
    try (Stream<Path> st = Files.list(tmp)) {
      assertTrue(st.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no temporary files left");
    }
  }

  @Test
  void demoRoundTripsWithErasures() {
    Run r = rq("demo", "files", "--size", "3000000", "--dir", s(tmp.resolve("demo")), "--lose", "40");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("byte-identical to the input"), r.out());
    assertTrue(r.out().contains("deleted"), r.out());
  }
}
