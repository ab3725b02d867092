package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.runicquanta.testing.TestEnv;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The generated tables against the RFC 6330 text ({@code ../shared/reference/rfc6330.txt}, parsed
 * here independently of the generator script), plus fixed spot checks that need no file.
 */
class Rfc6330TablesTest {

  private static String rfcText() throws IOException {
    Path p = TestEnv.repoDir().resolve("../shared/reference/rfc6330.txt").normalize();
    TestEnv.requireOrSkip(Files.isRegularFile(p), "RFC 6330 text not found at " + p);
    return Files.readString(p, StandardCharsets.US_ASCII);
  }

  /** Text between two headings with the page headers and footers removed. */
  private static String section(String text, String from, String to) {
    int a = text.indexOf(from, text.indexOf("5.5.1.  The Table V0\n\n"));
    int b = text.indexOf(to, a + from.length());
    StringBuilder sb = new StringBuilder();
    for (String line : text.substring(a + from.length(), b).split("\n")) {
      if (line.startsWith("Luby, et al.") || line.startsWith("RFC 6330 ")) {
        continue;
      }
      sb.append(line).append('\n');
    }
    return sb.toString();
  }

  private static long[] numbers(String s) {
    List<Long> out = new ArrayList<>();
    Matcher m = Pattern.compile("\\d+").matcher(s);
    while (m.find()) {
      out.add(Long.parseLong(m.group()));
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  @Test
  void vTablesMatchRfcText() throws IOException {
    String text = rfcText();
    String[] heads = {
      "5.5.1.  The Table V0", "5.5.2.  The Table V1", "5.5.3.  The Table V2",
      "5.5.4.  The Table V3", "5.6.  Systematic Indices"
    };
    int[][] tables = {Rfc6330Tables.V0, Rfc6330Tables.V1, Rfc6330Tables.V2, Rfc6330Tables.V3};
    for (int t = 0; t < 4; t++) {
      long[] want = numbers(section(text, heads[t], heads[t + 1]));
      assertEquals(256, want.length, "entries of V" + t + " in the RFC text");
      assertEquals(256, tables[t].length, "entries of V" + t);
      for (int i = 0; i < 256; i++) {
        assertEquals(want[i], tables[t][i] & 0xFFFFFFFFL, "V" + t + "[" + i + "]");
      }
    }
  }

  @Test
  void table2MatchesRfcTextRowByRow() throws IOException {
    String text = rfcText();
    String body =
        section(text, "| K'    | J(K') | S(K') | H(K') | W(K') |", "Table 2: Systematic Indices");
    Pattern row =
        Pattern.compile("^\\s*\\|\\s*(\\d+)\\s*\\|\\s*(\\d+)\\s*\\|\\s*(\\d+)\\s*\\|\\s*(\\d+)\\s*\\|"
            + "\\s*(\\d+)\\s*\\|\\s*$");
    List<int[]> rows = new ArrayList<>();
    for (String line : body.split("\n")) {
      Matcher m = row.matcher(line);
      if (m.matches()) {
        int[] r = new int[5];
        for (int c = 0; c < 5; c++) {
          r[c] = Integer.parseInt(m.group(c + 1));
        }
        rows.add(r);
      }
    }
    assertEquals(477, rows.size(), "rows of Table 2 in the RFC text");
    for (int i = 0; i < rows.size(); i++) {
      int[] r = rows.get(i);
      int[] got = {
        Rfc6330Tables.K_PRIME[i], Rfc6330Tables.J[i], Rfc6330Tables.S[i], Rfc6330Tables.H[i],
        Rfc6330Tables.W[i]
      };
      assertArrayEquals(r, got, "Table 2 row " + i);
    }
  }

  @Test
  void table2SpotChecksWithoutFile() {
    assertEquals(477, Rfc6330Tables.K_PRIME.length);
    assertArrayEquals(new int[] {10, 254, 7, 10, 17}, row(0), "first row");
    assertArrayEquals(new int[] {56403, 471, 907, 16, 56951}, row(476), "last row");
    for (int i = 1; i < 477; i++) {
      assertEquals(true, Rfc6330Tables.K_PRIME[i] > Rfc6330Tables.K_PRIME[i - 1], "K' ascending");
    }
    assertEquals(251291136L, Rfc6330Tables.V0[0] & 0xFFFFFFFFL);
    assertEquals(1358307511L, Rfc6330Tables.V0[255] & 0xFFFFFFFFL);
    assertEquals(807385413L, Rfc6330Tables.V1[0] & 0xFFFFFFFFL);
  }

  private static int[] row(int i) {
    return new int[] {
      Rfc6330Tables.K_PRIME[i], Rfc6330Tables.J[i], Rfc6330Tables.S[i], Rfc6330Tables.H[i],
      Rfc6330Tables.W[i]
    };
  }

  @Test
  void octetTablesMatchRfcText() throws IOException {
    String text = rfcText();
    long[] exp = numbers(section(text, "and the entries are the octets with the following\n"
        + "   positive integer representation:", "5.7.4.  The Table OCT_LOG"));
    assertEquals(510, exp.length, "OCT_EXP entries in the RFC text");
    for (int i = 0; i < 510; i++) {
      assertEquals(exp[i], Gf256.EXP[i], "OCT_EXP[" + i + "]");
    }
    long[] log = numbers(section(text, "255, and the entries are the following:",
        "5.7.5.  Operations on Symbols"));
    assertEquals(255, log.length, "OCT_LOG entries in the RFC text");
    for (int i = 1; i < 256; i++) {
      assertEquals(log[i - 1], Gf256.LOG[i], "OCT_LOG[" + i + "]");
    }
  }

  @Test
  void octetArithmetic() {
    for (int a = 1; a < 256; a++) {
      assertEquals(1, Gf256.mul(a, Gf256.inv(a)), "a * 1/a for a=" + a);
      assertEquals(a, Gf256.mul(a, 1));
      assertEquals(0, Gf256.mul(a, 0));
      // packed xtime agrees with octet multiplication by alpha in every lane
      long w = 0x0102030405060708L * a;
      long x = Gf256.xtimeWord(w);
      long m = Gf256.mulWord(w, a);
      for (int lane = 0; lane < 8; lane++) {
        int v = (int) (w >>> (8 * lane)) & 0xFF;
        assertEquals(Gf256.mul(v, 2), (int) (x >>> (8 * lane)) & 0xFF, "xtime lane " + lane);
        assertEquals(Gf256.mul(v, a), (int) (m >>> (8 * lane)) & 0xFF, "mulWord lane " + lane);
      }
    }
    assertEquals(Gf256.EXP[0], Gf256.alphaPow(255), "alpha^255 = 1 (exponent mod 255)");
    assertEquals(0x1D, Gf256.mul(0x80, 2), "0x80 * alpha reduces by 0x11D");
  }
}
