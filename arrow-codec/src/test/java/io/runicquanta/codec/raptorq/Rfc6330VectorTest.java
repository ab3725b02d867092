package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.TestEnv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shared RFC 6330 vectors (vectors/README.md, produced by the Rust raptorq crate): parameters of
 * every block, every encoding packet byte for byte, and decoding every block from its repair symbols
 * alone. Sub-blocked cases (N > 1) are run by splitting each symbol into its sub-symbols (RFC 6330
 * section 4.4.1.2) and replaying the same plans per sub-block.
 */
@ExtendWith(AllocatorExtension.class)
class Rfc6330VectorTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<String> cases() throws IOException {
    Path dir = TestEnv.vectorsDir().resolve("rfc6330");
    List<String> names = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(Files::isDirectory).forEach(p -> names.add(p.getFileName().toString()));
    }
    names.sort(null);
    assertTrue(names.size() >= 20, "expected the rfc6330 vector cases in " + dir + ", got " + names);
    return names.stream();
  }

  @Test
  void paramsOfEveryBlockMatchManifests() throws IOException {
    Path dir = TestEnv.vectorsDir().resolve("rfc6330");
    int checked = 0;
    for (String c : (Iterable<String>) cases()::iterator) {
      JsonNode m = JSON.readTree(dir.resolve(c).resolve("manifest.json").toFile());
      for (JsonNode b : m.get("blocks")) {
        int k = b.get("K").asInt();
        SystematicParams p = SystematicParams.forSourceSymbols(k);
        String where = c + " block " + b.get("sbn").asInt() + " K=" + k;
        assertEquals(b.get("K_prime").asInt(), p.kPrime(), where + " K'");
        assertEquals(b.get("J").asInt(), p.j(), where + " J");
        assertEquals(b.get("S").asInt(), p.s(), where + " S");
        assertEquals(b.get("H").asInt(), p.h(), where + " H");
        assertEquals(b.get("W").asInt(), p.w(), where + " W");
        assertEquals(b.get("L").asInt(), p.l(), where + " L");
        assertEquals(b.get("P").asInt(), p.p(), where + " P");
        assertEquals(b.get("P1").asInt(), p.p1(), where + " P1");
        assertEquals(b.get("U").asInt(), p.u(), where + " U");
        assertEquals(b.get("B").asInt(), p.b(), where + " B");
        JsonNode re = b.get("repair_esis");
        JsonNode ri = b.get("isi_of_repair_esis");
        for (int q = 0; q < re.size(); q++) {
          assertEquals(ri.get(q).asLong(), re.get(q).asLong() + p.kPrime() - k, where + " ISI");
        }
        checked++;
      }
    }
    assertTrue(checked >= 20, "blocks checked: " + checked);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void encodeEveryPacketAndDecodeFromRepairOnly(String name, BufferAllocator alloc)
      throws IOException {
    Path dir = TestEnv.vectorsDir().resolve("rfc6330").resolve(name);
    JsonNode m = JSON.readTree(dir.resolve("manifest.json").toFile());
    int t = m.get("T").asInt();
    int n = m.get("N").asInt();
    int al = m.get("Al").asInt();
    byte[] source = Files.readAllBytes(dir.resolve("source.bin"));
    byte[] packets = Files.readAllBytes(dir.resolve("packets.bin"));
    byte[] repairOnly = Files.readAllBytes(dir.resolve("repair_only.bin"));
    int rec = 4 + t;
    assertEquals(m.get("record_size").asInt(), rec);
    // Sub-symbol sizes (RFC 6330 4.4.1.2): Partition[T/Al, N] in units of Al.
    int[] sub = subSymbolSizes(t, al, n);
    int pktPos = 0;
    int roPos = 0;
    for (JsonNode b : m.get("blocks")) {
      int sbn = b.get("sbn").asInt();
      int k = b.get("K").asInt();
      long srcOff = b.get("source_offset").asLong();
      String where = name + " SBN " + sbn + " K=" + k;
      // Block bytes, zero padded to K*T.
      byte[] block = new byte[k * t];
      int avail = (int) Math.max(0, Math.min(block.length, source.length - srcOff));
      System.arraycopy(source, (int) srcOff, block, 0, avail);
      int[] esis = new int[k + b.get("repair_esis").size()];
      for (int e = 0; e < k; e++) {
        esis[e] = e;
      }
      for (int q = 0; q < b.get("repair_esis").size(); q++) {
        esis[k + q] = b.get("repair_esis").get(q).asInt();
      }
      byte[] encoded = encode(alloc, k, t, sub, block, esis);
      for (int q = 0; q < esis.length; q++) {
        int off = pktPos + q * rec;
        assertEquals(sbn, packets[off] & 0xFF, where + " packet " + q + " SBN");
        int esi = ((packets[off + 1] & 0xFF) << 16) | ((packets[off + 2] & 0xFF) << 8)
            | (packets[off + 3] & 0xFF);
        assertEquals(esis[q], esi, where + " packet " + q + " ESI");
        byte[] want = Arrays.copyOfRange(packets, off + 4, off + rec);
        byte[] got = Arrays.copyOfRange(encoded, q * t, (q + 1) * t);
        assertArrayEquals(want, got, where + " ESI " + esi + " symbol bytes");
      }
      pktPos += esis.length * rec;
      // Decode from repair only: ESIs K..2K+1.
      int first = b.get("repair_only_esis").get(0).asInt();
      int last = b.get("repair_only_esis").get(1).asInt();
      int cnt = last - first + 1;
      int[] rEsis = new int[cnt];
      byte[] rSyms = new byte[cnt * t];
      for (int q = 0; q < cnt; q++) {
        int off = roPos + q * rec;
        assertEquals(sbn, repairOnly[off] & 0xFF, where + " repair-only SBN");
        rEsis[q] = ((repairOnly[off + 1] & 0xFF) << 16) | ((repairOnly[off + 2] & 0xFF) << 8)
            | (repairOnly[off + 3] & 0xFF);
        assertEquals(first + q, rEsis[q], where + " repair-only ESI order");
        System.arraycopy(repairOnly, off + 4, rSyms, q * t, t);
      }
      roPos += cnt * rec;
      byte[] decoded = decode(alloc, k, t, sub, rEsis, rSyms);
      assertArrayEquals(block, decoded, where + " decoded from repair symbols only");
    }
    assertEquals(packets.length, pktPos, name + ": packets.bin fully consumed");
    assertEquals(repairOnly.length, roPos, name + ": repair_only.bin fully consumed");
  }

  static int[] subSymbolSizes(int t, int al, int n) {
    int units = t / al;
    int tl = (units + n - 1) / n;
    int ts = units / n;
    int nl = units - ts * n;
    int[] sub = new int[n];
    for (int j = 0; j < n; j++) {
      sub[j] = (j < nl ? tl : ts) * al;
    }
    return sub;
  }

  /**
   * Encodes the given ESIs of one block; with sub-blocks, each sub-block (a contiguous K x T_j part
   * of the block) is encoded with the same plan and symbol m is the concatenation of the m-th
   * sub-symbols.
   */
  static byte[] encode(BufferAllocator alloc, int k, int t, int[] sub, byte[] block, int[] esis) {
    EncodingPlan plan = EncodingPlan.forSourceSymbols(k);
    byte[] out = new byte[esis.length * t];
    int subOff = 0;
    for (int ts : sub) {
      try (ArrowBuf src = alloc.buffer((long) k * ts + 5);
          ArrowBuf dst = alloc.buffer((long) esis.length * ts + 3)) {
        // Sub-block j is K contiguous sub-symbols of the block (RFC 6330 4.4.1.2).
        src.setBytes(5, block, k * subOff, (long) k * ts);
        try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, ts, src, 5)) {
          for (int q = 0; q < esis.length; q++) {
            enc.encodeSymbol(esis[q], dst, 3 + (long) q * ts);
          }
        }
        for (int q = 0; q < esis.length; q++) {
          dst.getBytes(3 + (long) q * ts, out, q * t + subOff, ts);
        }
      }
      subOff += ts;
    }
    return out;
  }

  static byte[] decode(
      BufferAllocator alloc, int k, int t, int[] sub, int[] esis, byte[] symbols) {
    DecodingPlan plan = DecodingPlan.build(k, esis);
    byte[] out = new byte[k * t];
    int subOff = 0;
    for (int ts : sub) {
      try (ArrowBuf in = alloc.buffer((long) esis.length * ts + 7);
          ArrowBuf dst = alloc.buffer((long) k * ts + 1)) {
        for (int q = 0; q < esis.length; q++) {
          in.setBytes(7 + (long) q * ts, symbols, q * t + subOff, ts);
        }
        SourceBlockDecoder.decode(alloc, plan, ts, in, 7, dst, 1);
        dst.getBytes(1, out, k * subOff, k * ts);
      }
      subOff += ts;
    }
    return out;
  }
}
