package io.runicquanta.plugin;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The small document stored under a user key that makes a stashed object out of its parts (see
 * {@link GridStore} for the data path). Binary, little-endian, versioned:
 *
 * <pre>
 *   0..3    magic 'R','Q','M','F'
 *   4       version, 1
 *   5       content type: 0 bytes, 1 arrow-stream, 2 arrow-file
 *   6..7    reserved, 0
 *   8..15   object size in bytes
 *   16..23  block size in bytes (every part but the last holds this many)
 *   24..27  symbol size T
 *   28..31  loss tolerance m
 *   32..47  stash id (UUID, most then least significant 64 bits); part i is {@code .rq/<id>/<i>}
 *   48..51  part count P
 *   52..    P part sizes, int64 each
 *   then    batch-index entry count B (int32, 0 for now; room for the Arrow batch index Flight will
 *           use: B entries of int64 offset, int64 length, int64 rows)
 *   then    B * 24 bytes
 *   last 4  CRC32C of everything before
 * </pre>
 *
 * @param contentType {@code bytes}, {@code arrow-stream} or {@code arrow-file}
 * @param size object size
 * @param blockSize part size (all but the last)
 * @param symbolSize T
 * @param lossTolerance m
 * @param stashId the stash's random id
 * @param partSizes bytes of every part
 */
record Manifest(String contentType, long size, long blockSize, int symbolSize, int lossTolerance,
    UUID stashId, long[] partSizes) {

  static final String BYTES = "bytes";
  static final String ARROW_STREAM = "arrow-stream";
  static final String ARROW_FILE = "arrow-file";
  private static final int MAGIC = 'R' | 'Q' << 8 | 'M' << 16 | 'F' << 24;

  /** Prefix of internal keys (parts); refused as user keys and hidden from listings. */
  static final String INTERNAL_PREFIX = ".rq/";

  static String partKey(UUID stashId, int index) {
    return INTERNAL_PREFIX + stashId + "/" + index;
  }

  String partKey(int index) {
    return partKey(stashId, index);
  }

  int parts() {
    return partSizes.length;
  }

  byte[] toBytes() {
    int n = 52 + 8 * partSizes.length + 4 + 4;
    ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MAGIC).put((byte) 1).put((byte) typeCode(contentType)).putShort((short) 0);
    b.putLong(size).putLong(blockSize).putInt(symbolSize).putInt(lossTolerance);
    b.putLong(stashId.getMostSignificantBits()).putLong(stashId.getLeastSignificantBits());
    b.putInt(partSizes.length);
    for (long s : partSizes) {
      b.putLong(s);
    }
    b.putInt(0);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /**
   * @param bytes a manifest's bytes
   * @param key the key it was read from, for messages
   * @return the manifest
   * @throws RqException DATA_LOSS if it is not a valid manifest (not made by stash, or damaged)
   */
  static Manifest parse(byte[] bytes, String key) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      if (bytes.length < 60 || b.getInt() != MAGIC) {
        throw bad(key, "it does not start with the manifest magic RQMF");
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes, 0, bytes.length - 4);
      if ((int) crc.getValue() != b.getInt(bytes.length - 4)) {
        throw bad(key, "its checksum does not match");
      }
      int version = b.get();
      if (version != 1) {
        throw bad(key, "version " + version + ", expected 1");
      }
      String type = typeName(b.get(), key);
      b.getShort();
      long size = b.getLong();
      long block = b.getLong();
      int t = b.getInt();
      int m = b.getInt();
      UUID id = new UUID(b.getLong(), b.getLong());
      int p = b.getInt();
      if (p < 0 || 52L + 8L * p + 8 > bytes.length) {
        throw bad(key, "part count " + p + " does not fit its " + bytes.length + " bytes");
      }
      long[] sizes = new long[p];
      long sum = 0;
      for (int i = 0; i < p; i++) {
        sizes[i] = b.getLong();
        sum += sizes[i];
      }
      if (sum != size) {
        throw bad(key, "part sizes add up to " + sum + ", the object size is " + size);
      }
      return new Manifest(type, size, block, t, m, id, sizes);
    } catch (java.nio.BufferUnderflowException e) {
      throw bad(key, "it is truncated");
    }
  }

  private static RqException bad(String key, String why) {
    return new RqException(RqException.Code.DATA_LOSS,
        "object '" + key + "': its manifest is not valid (" + why + ")", null);
  }

  private static int typeCode(String t) {
    return switch (t) {
      case BYTES -> 0;
      case ARROW_STREAM -> 1;
      case ARROW_FILE -> 2;
      default -> throw new IllegalArgumentException("content type " + t);
    };
  }

  private static String typeName(int code, String key) {
    return switch (code) {
      case 0 -> BYTES;
      case 1 -> ARROW_STREAM;
      case 2 -> ARROW_FILE;
      default -> throw bad(key, "unknown content type " + code);
    };
  }
}
