package io.runicquanta.plugin;

/**
 * One stored object as {@link RqStore#stat} and {@link RqStore#list} report it.
 *
 * @param key the key
 * @param size bytes
 * @param contentType {@code bytes}, {@code arrow-stream} or {@code arrow-file}
 * @param blocks source blocks
 * @param shards shards over all blocks
 * @param lossTolerance m it was stored for
 * @param lostShards shards on nodes that are gone (or failed their checksum when last read)
 * @param tolerableNow node losses the object survives now: m when healthy, less while shards are
 *     lost, negative when some block can no longer be decoded
 * @param repairing true while self-healing rewrites lost shards
 */
public record ObjectStat(
    String key,
    long size,
    String contentType,
    int blocks,
    int shards,
    int lossTolerance,
    int lostShards,
    int tolerableNow,
    boolean repairing) {

  /** @return HEALTHY, DEGRADED (decodable, tolerance below m) or LOST */
  public String health() {
    return tolerableNow >= lossTolerance ? "HEALTHY" : tolerableNow >= 0 ? "DEGRADED" : "LOST";
  }
}
