package io.runicquanta.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.TestEnv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of vectors/rfc6330 (Rust raptorq 2.0.1): the OTI bytes and derived partitions, every
 * packet of packets.bin reproduced byte for byte by {@link ObjectEncoder} (sub-blocks and several
 * source blocks included), and the object decoded by {@link ObjectDecoder} from repair_only.bin
 * alone.
 */
@ExtendWith(AllocatorExtension.class)
class RfcVectorsTest {
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

  static Stream<String> cases() throws IOException {
    Path dir = TestEnv.vectorsDir().resolve("rfc6330");
    TestEnv.requireOrSkip(Files.isDirectory(dir), "no rfc6330 vectors at " + dir);
    try (Stream<Path> s = Files.list(dir)) {
      List<String> names =
          s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
      return names.stream();
    }
  }

  private static Path caseDir(String name) {
    return TestEnv.vectorsDir().resolve("rfc6330").resolve(name);
  }

  private static Oti otiOf(JsonNode m) {
    return Oti.of(m.get("F").asLong(), m.get("T").asInt(), m.get("Z").asInt(), m.get("N").asInt(), m.get("Al").asInt());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void otiAndPartitionsMatchManifest(String name) throws IOException {
    JsonNode m = JSON.readTree(caseDir(name).resolve("manifest.json").toFile());
    Oti oti = otiOf(m);
    assertEquals(m.get("oti_hex").asText(), HexFormat.of().formatHex(oti.encode()));
    assertEquals(oti, Oti.decode(HexFormat.of().parseHex(m.get("oti_hex").asText())));
    JsonNode d = m.get("derived");
    assertEquals(d.get("Kt").asLong(), oti.totalSourceSymbols());
    JsonNode sb = d.get("source_block_partition");
    Partition p = oti.sourceBlockPartition();
    assertEquals(sb.get("KL").asLong(), p.largeSize());
    assertEquals(sb.get("KS").asLong(), p.smallSize());
    assertEquals(sb.get("ZL").asInt(), p.largeCount());
    assertEquals(sb.get("ZS").asInt(), p.smallCount());
    JsonNode sub = d.get("sub_block_partition");
    Partition q = oti.subBlockPartition();
    assertEquals(sub.get("TL").asLong(), q.largeSize());
    assertEquals(sub.get("TS").asLong(), q.smallSize());
    assertEquals(sub.get("NL").asInt(), q.largeCount());
    assertEquals(sub.get("NS").asInt(), q.smallCount());
    assertEquals(sub.get("sub_symbol_bytes_long").asInt(), oti.subSymbolSize(0));
    assertEquals(sub.get("sub_symbol_bytes_short").asInt(), oti.subSymbolSize(oti.subBlockCount() - 1));
    for (JsonNode b : m.get("blocks")) {
      int sbn = b.get("sbn").asInt();
      assertEquals(b.get("K").asInt(), oti.sourceSymbols(sbn));
      assertEquals(b.get("source_offset").asLong(), oti.sourceBlockOffset(sbn));
      assertEquals(b.get("K_prime").asInt(), ExtendedSourceSymbols.extended(oti.sourceSymbols(sbn)));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void encoderReproducesEveryPacket(String name, BufferAllocator allocator) throws IOException {
    Path dir = caseDir(name);
    JsonNode m = JSON.readTree(dir.resolve("manifest.json").toFile());
    Oti oti = otiOf(m);
    int t = oti.symbolSize();
    byte[] source = Files.readAllBytes(dir.resolve("source.bin"));
    byte[] packets = Files.readAllBytes(dir.resolve("packets.bin"));
    assertEquals(oti.transferLength(), source.length);
    int record = 4 + t;
    int at = 0;
    try (ArrowBuf object = allocator.buffer(source.length)) {
      object.setBytes(0, source);
      try (ObjectEncoder enc = ObjectEncoder.create(allocator, oti, object, 0, pool)) {
        for (JsonNode b : m.get("blocks")) {
          int sbn = b.get("sbn").asInt();
          int k = oti.sourceSymbols(sbn);
          int[] repair = toInts(b.get("repair_esis"));
          int[] esis = new int[k + repair.length];
          for (int i = 0; i < k; i++) {
            esis[i] = i;
          }
          System.arraycopy(repair, 0, esis, k, repair.length);
          try (ArrowBuf out = allocator.buffer((long) esis.length * t)) {
            enc.encodeSymbols(sbn, esis, out, 0);
            byte[] got = new byte[t];
            for (int i = 0; i < esis.length; i++) {
              PayloadId id = PayloadId.readFrom(packets, at);
              assertEquals(new PayloadId(sbn, esis[i]), id, "payload id of packet " + (at / record));
              out.getBytes((long) i * t, got);
              byte[] want = Arrays.copyOfRange(packets, at + 4, at + record);
              assertArrayEquals(want, got, name + ": SBN " + sbn + " ESI " + esis[i]);
              at += record;
            }
          }
        }
      }
    }
    assertEquals(packets.length, at, "packets.bin fully compared");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decoderRecoversObjectFromRepairSymbolsOnly(String name, BufferAllocator allocator) throws IOException {
    Path dir = caseDir(name);
    JsonNode m = JSON.readTree(dir.resolve("manifest.json").toFile());
    Oti oti = otiOf(m);
    int t = oti.symbolSize();
    byte[] source = Files.readAllBytes(dir.resolve("source.bin"));
    byte[] repairOnly = Files.readAllBytes(dir.resolve("repair_only.bin"));
    int record = 4 + t;
    ObjectDecoder dec = new ObjectDecoder(allocator, oti, pool);
    int at = 0;
    try (ArrowBuf object = allocator.buffer(source.length)) {
      object.setZero(0, source.length);
      for (JsonNode b : m.get("blocks")) {
        int sbn = b.get("sbn").asInt();
        int first = b.get("repair_only_esis").get(0).asInt();
        int last = b.get("repair_only_esis").get(1).asInt();
        int count = last - first + 1;
        int[] esis = new int[count];
        try (ArrowBuf received = allocator.buffer((long) count * t)) {
          for (int i = 0; i < count; i++) {
            PayloadId id = PayloadId.readFrom(repairOnly, at);
            assertEquals(sbn, id.sourceBlockNumber());
            esis[i] = id.encodingSymbolId();
            received.setBytes((long) i * t, repairOnly, at + 4, t);
            at += record;
          }
          assertEquals(first, esis[0]);
          dec.decodeSourceBlock(sbn, esis, received, 0, object, 0);
        }
      }
      byte[] got = new byte[source.length];
      object.getBytes(0, got);
      assertArrayEquals(source, got, name);
    }
    assertEquals(repairOnly.length, at);
  }

  private static int[] toInts(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
