package io.runicquanta.master;

import io.runicquanta.master.proto.ReplicaInfo;
import java.io.Serializable;

/**
 * The stored form of one object in the master's objects cache (key: the object key). Immutable;
 * the master replaces the whole value on every change.
 *
 * <p>The layout is kept as the bytes of the protobuf {@code ReplicaInfo} message without status or
 * checksums (the form the master hands out, so reads need no conversion of their own); the
 * checksums sent by PutEnd are kept apart in {@link #crc32c()} so completing a put does not
 * rewrite the layout. A record also stands for the space its shards take: the master rebuilds its
 * free lists from these records (and from pending frees) when it starts.
 *
 * <p>The master also keeps here, once a reader asked for it, the placement it hands to readers
 * (the {@code ReplicaInfo} built from the layout with status COMPLETE and the checksums): a pure
 * function of the immutable fields, built on the first read and reused by every later read of the
 * same record, so a read no longer parses the layout and rebuilds the message. Every change of an
 * object (PutEnd, a repair, a corrupt mark, ...) puts a new record in place of the old, so the
 * cached answer can never outlive the version it was built from. The field is transient: never
 * stored in the caches, and a record read back from them (a rebuilt master) builds it again.
 */
public final class ObjectRecord implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Status values, the numbers of {@code ReplicaInfo.ReplicaStatus}. */
  public static final int INITIALIZED = 1;

  /** Written and visible to readers. */
  public static final int COMPLETE = 3;

  private final int status;
  private final long size;
  private final long putDeadlineMillis;
  private final int shardCount;
  private final byte[] layout;
  private final int[] crc32c;
  /** The reader's placement, built from this record on first read; see the class comment. */
  private transient volatile ReplicaInfo readerView;

  /**
   * @param status {@link #INITIALIZED} or {@link #COMPLETE}
   * @param size object size in bytes
   * @param putDeadlineMillis wall-clock time (ms since the epoch) after which an unfinished put is
   *     revoked
   * @param shardCount number of shards over all blocks
   * @param layout serialized {@code ReplicaInfo} (not copied: the caller hands it over)
   * @param crc32c per-shard CRC32C in layout order, or null before PutEnd (not copied)
   */
  public ObjectRecord(
      int status, long size, long putDeadlineMillis, int shardCount, byte[] layout, int[] crc32c) {
    this.status = status;
    this.size = size;
    this.putDeadlineMillis = putDeadlineMillis;
    this.shardCount = shardCount;
    this.layout = layout;
    this.crc32c = crc32c;
  }

  /** @return {@link #INITIALIZED} or {@link #COMPLETE} */
  public int status() {
    return status;
  }

  /** @return the object size in bytes */
  public long size() {
    return size;
  }

  /** @return when an unfinished put expires, ms since the epoch */
  public long putDeadlineMillis() {
    return putDeadlineMillis;
  }

  /** @return shards over all blocks */
  public int shardCount() {
    return shardCount;
  }

  /** @return the serialized layout; callers must not modify it */
  public byte[] layout() {
    return layout;
  }

  /** @return per-shard checksums, or null before PutEnd; callers must not modify it */
  public int[] crc32c() {
    return crc32c;
  }

  /** @return the cached reader's placement, or null before the first read of this record */
  ReplicaInfo readerView() {
    return readerView;
  }

  /**
   * Caches the reader's placement; racing readers may each build it and set an equal value.
   *
   * @param view what {@code MasterCore} hands to readers of this record
   */
  void readerView(ReplicaInfo view) {
    this.readerView = view;
  }

  /**
   * @param crcs the checksums PutEnd carried
   * @return a complete copy of this record
   */
  ObjectRecord complete(int[] crcs) {
    return new ObjectRecord(COMPLETE, size, putDeadlineMillis, shardCount, layout, crcs);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectRecord r
        && r.status == status
        && r.size == size
        && r.putDeadlineMillis == putDeadlineMillis
        && r.shardCount == shardCount
        && java.util.Arrays.equals(r.layout, layout)
        && java.util.Arrays.equals(r.crc32c, crc32c);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(status, size, putDeadlineMillis, shardCount)
        + 31 * java.util.Arrays.hashCode(layout);
  }

  @Override
  public String toString() {
    return "ObjectRecord[status=" + status + ", size=" + size + ", putDeadline=" + putDeadlineMillis
        + ", shards=" + shardCount + ", layout=" + layout.length + " bytes, crcs="
        + (crc32c == null ? "none" : crc32c.length) + "]";
  }
}
