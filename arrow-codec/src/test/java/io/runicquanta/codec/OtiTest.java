package io.runicquanta.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OtiTest {

  @Test
  void encodesFieldsAtTheirRfcPositions() {
    Oti oti = Oti.of(1_000_000, 1280, 1, 3, 4);
    assertEquals("00000f424000050001000304", HexFormat.of().formatHex(oti.encode()));
    Oti back = Oti.decode(oti.encode());
    assertEquals(oti, back);
    assertEquals(1_000_000, back.transferLength());
    assertEquals(1280, back.symbolSize());
    assertEquals(3, back.subBlockCount());
  }

  @Test
  void largestFieldsRoundTrip() {
    Oti oti = Oti.of(255L * 56403 * 65535, 65535, 255, 13107, 5);
    assertArrayEquals(oti.encode(), Oti.decode(oti.encode()).encode());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "T zero            | 000000000100000001000108 | T    | T (symbol size) = 0",
        "Al zero           | 000000000100004001000100 | Al   | Al (symbol alignment) = 0",
        "Al not dividing T | 000000000100004001000103 | Al   | does not divide T = 64",
        "Z zero            | 000000000100004000000108 | Z    | Z (source blocks) = 0",
        "N zero            | 000000000100004001000008 | N    | N (sub-blocks) = 0, expected 1..T/Al = 8",
        "N above T/Al      | 000000000100004001000908 | N    | N (sub-blocks) = 9, expected 1..T/Al = 8",
        "F above RFC max   | dc5223ad0100004001000108 | F    | expected 0..946270874880",
        "reserved nonzero  | 000000000107004001000108 | reserved | reserved octet 5 = 7",
        "Z above Kt        | 000000000100004002000108 | Z    | exceeds Kt = ceil(F/T) = 1",
        "K above 56403     | 00ffffffff00000101000101 | Z    | expected at most 56403",
      })
  void rejectsEachFieldOutOfRange(String name, String hex, String field, String message) {
    InvalidOtiException e =
        assertThrows(InvalidOtiException.class, () -> Oti.decode(HexFormat.of().parseHex(hex)));
    assertEquals(field, e.field());
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void rejectsWrongLength() {
    InvalidOtiException e = assertThrows(InvalidOtiException.class, () -> Oti.decode(new byte[11]));
    assertEquals("length", e.field());
    assertTrue(e.getMessage().contains("11 bytes, expected 12"), e.getMessage());
    assertThrows(InvalidOtiException.class, () -> Oti.decode(new byte[13]));
    assertThrows(InvalidOtiException.class, () -> Oti.decode(null));
  }

  @Test
  void ofRejectsZAbove255AndTAbove16Bits() {
    assertEquals("Z", assertThrows(InvalidOtiException.class, () -> Oti.of(1 << 30, 64, 256, 1, 8)).field());
    assertEquals("T", assertThrows(InvalidOtiException.class, () -> Oti.of(100, 65536, 1, 1, 8)).field());
    assertEquals("F", assertThrows(InvalidOtiException.class, () -> Oti.of(-1, 64, 1, 1, 8)).field());
  }

  /** The RQ library's OTIs from vectors/rq-library*: same rule, same 12 bytes. */
  @ParameterizedTest(name = "F={0} symbol size {1}")
  @CsvSource({
    "1024, 65535, 000000040000fff801000108",
    "1048576, 65535, 000010000000fff801000108",
    "100000, 1000, 000186a00003e801000108",
    "25165829, 65535, 000180000500fff801000308",
    "10485600, 65535, 00009fff6000fff801000208",
    "800, 65535, 000000032000fff801000108",
    "3000000, 1280, 002dc6c000050001000108",
  })
  void derivesTheRqLibraryParameters(long f, int symbolSize, String hex) {
    String padded = hex.length() == 24 ? hex : "00" + hex;
    assertEquals(padded, HexFormat.of().formatHex(Oti.forRqLibrary(f, symbolSize).encode()));
  }

  @Test
  void fourGibibytesAtDefaultsUsesTwoBlocksOfManySubBlocks() {
    Oti oti = Oti.forRqLibrary(4L << 30, 65535);
    assertEquals(65528, oti.symbolSize());
    assertEquals(2, oti.sourceBlockCount());
    assertEquals(211, oti.subBlockCount());
    // every sub-block fits the 10 MiB working memory
    for (int n = 0; n < oti.subBlockCount(); n++) {
      assertTrue((long) oti.sourceSymbols(0) * oti.subSymbolSize(n) <= Oti.RQ_LIBRARY_WORKING_MEMORY);
    }
  }

  @Test
  void partitionMatchesRfcDefinition() {
    Partition p = Partition.of(1280 / 4, 3);
    assertEquals(new Partition(107, 106, 2, 1), p);
    assertEquals(0, p.start(0));
    assertEquals(214, p.start(2));
    assertEquals(320, p.start(3));
    assertEquals(new Partition(782, 782, 0, 1), Partition.of(782, 1));
    assertThrows(IllegalArgumentException.class, () -> Partition.of(5, 0));
  }

  @Test
  void extendedSourceSymbolsTable() {
    assertEquals(477, ExtendedSourceSymbols.count());
    assertEquals(10, ExtendedSourceSymbols.extended(1));
    assertEquals(792, ExtendedSourceSymbols.extended(782));
    assertEquals(56403, ExtendedSourceSymbols.largestAtMost(1 << 30));
    assertEquals(0, ExtendedSourceSymbols.largestAtMost(9));
    assertEquals(10, ExtendedSourceSymbols.largestAtMost(11));
  }

  @Test
  void payloadIdPacksSbnAndEsi() {
    PayloadId id = new PayloadId(3, 100000);
    byte[] b = new byte[4];
    id.writeTo(b, 0);
    assertEquals("030186a0", HexFormat.of().formatHex(b));
    assertEquals(id, PayloadId.readFrom(b, 0));
    assertEquals(new PayloadId(255, PayloadId.MAX_ESI), PayloadId.fromInt(-1));
    assertThrows(IllegalArgumentException.class, () -> new PayloadId(256, 0));
    assertThrows(IllegalArgumentException.class, () -> new PayloadId(0, 1 << 24));
  }
}
