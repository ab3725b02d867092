package io.runicquanta.plugin.jcache;

/**
 * Metadata of one cache entry, kept in the grid's TRANSACTIONAL metadata cache: which object holds
 * the value (and which codec wrote it), a version that changes with every write, and the absolute
 * expiry time (ms since the epoch, {@link Long#MAX_VALUE} for never). Immutable.
 */
final class EntryMeta {
  final String objectKey;
  final String codec;
  final long version;
  final long created;
  final long expiresAt;

  EntryMeta(String objectKey, String codec, long version, long created, long expiresAt) {
    this.objectKey = objectKey;
    this.codec = codec;
    this.version = version;
    this.created = created;
    this.expiresAt = expiresAt;
  }

  boolean expiredAt(long now) {
    return expiresAt <= now;
  }

  EntryMeta withExpiry(long at) {
    return new EntryMeta(objectKey, codec, version, created, at);
  }

  @Override
  public String toString() {
    return "EntryMeta[" + objectKey + ", " + codec + ", v" + version + ", expiresAt=" + expiresAt + "]";
  }
}
