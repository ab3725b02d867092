package io.runicquanta.plugin;

import java.util.List;

/**
 * The grid as {@code rq status} shows it.
 *
 * @param nodes server nodes in the topology
 * @param segments mounted segments
 * @param objects stored objects
 * @param degradedObjects objects below their loss tolerance (being repaired or lost)
 * @param masterAddress host:port of the master's gRPC endpoint
 */
public record ClusterStatus(
    int nodes, List<SegmentStatus> segments, long objects, long degradedObjects, String masterAddress) {

  /**
   * One mounted segment.
   *
   * @param name segment name
   * @param nodeId node offering it
   * @param alive true if that node is in the topology
   * @param transport transport name
   * @param sizeBytes size
   * @param freeBytes free space
   * @param shards live shards in it
   */
  public record SegmentStatus(
      String name, String nodeId, boolean alive, String transport, long sizeBytes, long freeBytes,
      long shards) {}

  /** @return total segment bytes */
  public long totalBytes() {
    return segments.stream().mapToLong(SegmentStatus::sizeBytes).sum();
  }

  /** @return total free bytes */
  public long freeBytes() {
    return segments.stream().mapToLong(SegmentStatus::freeBytes).sum();
  }
}
