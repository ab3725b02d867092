package io.runicquanta.plugin;

import io.runicquanta.codec.layout.ShardLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.apache.arrow.memory.ArrowBuf;

/**
 * The 32-byte shard header of {@link ShardLayout} (magic RQSH, version 1, SBN, first ESI, ESI
 * count, T, CRC32C of the symbols, CRC32C of bytes 0..27; little-endian) and CRC32C over off-heap
 * memory. Checksums run over direct {@link ByteBuffer} views of the Arrow buffers ({@link
 * ArrowBuf#nioBuffer(long, int)}), so no byte is copied to the heap. Stateless.
 */
final class ShardIo {
  private static final int MAGIC = 'R' | 'Q' << 8 | 'S' << 16 | 'H' << 24;

  private ShardIo() {}

  /** @return CRC32C of {@code len} bytes of {@code buf} at {@code off} */
  static int crc32c(ArrowBuf buf, long off, long len) {
    CRC32C c = new CRC32C();
    while (len > 0) {
      int n = (int) Math.min(len, 1 << 30);
      c.update(buf.nioBuffer(off, n));
      off += n;
      len -= n;
    }
    return (int) c.getValue();
  }

  /** Writes the header of a shard whose symbols have checksum {@code crc}. */
  static void writeHeader(ArrowBuf buf, long off, int sbn, int firstEsi, int count, int t, int crc) {
    ByteBuffer h = buf.nioBuffer(off, ShardLayout.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(0, MAGIC);
    h.put(4, (byte) 1);
    h.put(5, (byte) 0).put(6, (byte) 0).put(7, (byte) 0);
    h.putInt(8, sbn).putInt(12, firstEsi).putInt(16, count).putInt(20, t).putInt(24, crc);
    CRC32C c = new CRC32C();
    c.update(h.duplicate().position(0).limit(28));
    h.putInt(28, (int) c.getValue());
  }

  /**
   * Checks a header read back against what the layout says.
   *
   * @return null if it matches, else why not
   */
  static String checkHeader(ArrowBuf buf, long off, int sbn, ShardLayout s, int t) {
    ByteBuffer h = buf.nioBuffer(off, ShardLayout.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    if (h.getInt(0) != MAGIC) {
      return "no shard header magic";
    }
    CRC32C c = new CRC32C();
    c.update(h.duplicate().position(0).limit(28));
    if ((int) c.getValue() != h.getInt(28)) {
      return "header checksum mismatch";
    }
    if (h.get(4) != 1) {
      return "header version " + h.get(4);
    }
    if (h.getInt(8) != sbn || h.getInt(12) != s.firstEsi() || h.getInt(16) != s.esiCount()
        || h.getInt(20) != t) {
      return "header describes block " + h.getInt(8) + " ESIs " + h.getInt(12) + "+" + h.getInt(16)
          + " T " + h.getInt(20) + ", the layout block " + sbn + " ESIs " + s.firstEsi() + "+"
          + s.esiCount() + " T " + t;
    }
    if (h.getInt(24) != s.crc32c()) {
      return "header checksum of the symbols differs from the layout's";
    }
    return null;
  }
}
