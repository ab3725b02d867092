package io.runicquanta.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SegmentDescriptorTest {
  static SegmentDescriptor sample() {
    return new SegmentDescriptor("seg-α", 1L << 33, "fabric", List.of(
        new RailEndpoint("127.0.0.1:4000".getBytes(StandardCharsets.US_ASCII), 7, 0),
        new RailEndpoint(new byte[] {0, 1, 2, (byte) 0xFF}, -1L, 0x7f00_0000_1000L)));
  }

  @Test
  void roundTripsThroughBytes() {
    SegmentDescriptor d = sample();
    SegmentDescriptor back = SegmentDescriptor.fromBytes(d.toBytes());
    assertEquals(d, back);
    assertEquals(d.hashCode(), back.hashCode());
    assertEquals(0x7f00_0000_1000L, back.rails().get(1).baseAddress());
    assertTrue(d.toString().contains("127.0.0.1:4000"), d.toString());
  }

  @Test
  void rejectsCorruptBytes() {
    byte[] b = sample().toBytes();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SegmentDescriptor.fromBytes(Arrays.copyOf(b, b.length - 3)));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    byte[] magic = b.clone();
    magic[0] = 'X';
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SegmentDescriptor.fromBytes(magic))
        .getMessage().contains("magic"));
    byte[] version = b.clone();
    version[4] = 9;
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SegmentDescriptor.fromBytes(version))
        .getMessage().contains("version 9"));
    byte[] trailing = Arrays.copyOf(b, b.length + 1);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SegmentDescriptor.fromBytes(trailing))
        .getMessage().contains("trailing"));
    assertThrows(IllegalArgumentException.class, () -> SegmentDescriptor.fromBytes(null));
  }

  @Test
  void rejectsBadValues() {
    List<RailEndpoint> rails = sample().rails();
    assertThrows(IllegalArgumentException.class, () -> new SegmentDescriptor("", 1, "tcp", rails));
    assertThrows(IllegalArgumentException.class, () -> new SegmentDescriptor("a", -1, "tcp", rails));
    assertThrows(IllegalArgumentException.class, () -> new SegmentDescriptor("a", 1, "", rails));
    assertThrows(IllegalArgumentException.class, () -> new SegmentDescriptor("a", 1, "tcp", List.of()));
    assertThrows(IllegalArgumentException.class, () -> new RailEndpoint(new byte[0], 1, 0));
    assertNotEquals(new RailEndpoint(new byte[] {1}, 1, 0), new RailEndpoint(new byte[] {1}, 2, 0));
  }
}
