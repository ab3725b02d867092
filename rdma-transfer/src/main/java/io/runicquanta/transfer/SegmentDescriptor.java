package io.runicquanta.transfer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * How a remote peer addresses a registered {@link Segment}: its name, its length in bytes, the
 * transport it was registered with, and one {@link RailEndpoint} per rail of the owning engine.
 * Small and serializable ({@link #toBytes()} / {@link #fromBytes(byte[])}), so it can travel through
 * any metadata service. Immutable and thread safe.
 *
 * <p>A descriptor is a claim, not a capability: the target re-checks every request against its own
 * registration (name, key, bounds, open state), so a forged or stale descriptor is refused.
 *
 * <p>Wire form (big-endian): magic {@code "RQSD"}, version byte 1, name (modified UTF-8), length
 * (int64), transport name (modified UTF-8), rail count (int16), then per rail: address length
 * (int16), address bytes, key (int64), base address (int64).
 *
 * @param name segment name, unique within the owning engine
 * @param length segment length in bytes
 * @param transport name of the transport the endpoints belong to
 * @param rails endpoints, one per rail of the owning engine (at least one)
 */
public record SegmentDescriptor(String name, long length, String transport, List<RailEndpoint> rails) {
  private static final int MAGIC = 0x52515344; // "RQSD"
  private static final int VERSION = 1;

  /**
   * @throws IllegalArgumentException if a value is null, empty or negative
   */
  public SegmentDescriptor {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("segment name must be non-empty, got " + name);
    }
    if (length < 0) {
      throw new IllegalArgumentException("segment length must be >= 0, got " + length);
    }
    if (transport == null || transport.isEmpty()) {
      throw new IllegalArgumentException("transport must be non-empty, got " + transport);
    }
    if (rails == null || rails.isEmpty() || rails.size() > Short.MAX_VALUE) {
      throw new IllegalArgumentException(
          "rails must hold 1.." + Short.MAX_VALUE + " endpoints, got "
              + (rails == null ? "null" : rails.size()));
    }
    rails = List.copyOf(rails);
  }

  /** The serialized form described in the class comment. */
  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + rails.size() * 64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeByte(VERSION);
      out.writeUTF(name);
      out.writeLong(length);
      out.writeUTF(transport);
      out.writeShort(rails.size());
      for (RailEndpoint r : rails) {
        byte[] a = r.address();
        out.writeShort(a.length);
        out.write(a);
        out.writeLong(r.key());
        out.writeLong(r.baseAddress());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Parses the form written by {@link #toBytes()}.
   *
   * @throws IllegalArgumentException if the bytes are truncated, have the wrong magic or version, or
   *     carry trailing bytes
   */
  public static SegmentDescriptor fromBytes(byte[] bytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("descriptor bytes must not be null");
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int magic = in.readInt();
      if (magic != MAGIC) {
        throw new IllegalArgumentException(
            "not a segment descriptor: magic 0x" + Integer.toHexString(magic) + ", expected 0x"
                + Integer.toHexString(MAGIC));
      }
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IllegalArgumentException(
            "segment descriptor version " + version + " unsupported, expected " + VERSION);
      }
      String name = in.readUTF();
      long length = in.readLong();
      String transport = in.readUTF();
      int n = in.readShort();
      if (n <= 0) {
        throw new IllegalArgumentException("segment descriptor rail count " + n + ", expected >= 1");
      }
      List<RailEndpoint> rails = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        int alen = in.readUnsignedShort();
        byte[] a = new byte[alen];
        in.readFully(a);
        rails.add(new RailEndpoint(a, in.readLong(), in.readLong()));
      }
      if (in.available() != 0) {
        throw new IllegalArgumentException(
            "segment descriptor has " + in.available() + " trailing bytes");
      }
      return new SegmentDescriptor(name, length, transport, rails);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "segment descriptor truncated (" + bytes.length + " bytes): " + e, e);
    }
  }
}
