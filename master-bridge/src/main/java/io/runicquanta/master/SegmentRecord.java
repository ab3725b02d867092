package io.runicquanta.master;

import java.io.Serializable;

/**
 * The stored form of a mounted segment in the master's segments cache (key: segment name).
 * Immutable.
 *
 * <p>{@code name}: segment name
 * <p>{@code nodeId}: the node offering it
 * <p>{@code failureDomain}: the node's failure domain, empty when none
 * <p>{@code sizeBytes}: segment size
 * <p>{@code transport}: transfer transport name
 * <p>{@code address}: transport address
 * <p>{@code remoteKey}: transport key (not copied)
 */
final class SegmentRecord implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String name;
  private final String nodeId;
  private final String failureDomain;
  private final long sizeBytes;
  private final String transport;
  private final String address;
  private final byte[] remoteKey;

  /** Creates the value; see the class comment for the fields. */
  SegmentRecord(String name, String nodeId, String failureDomain, long sizeBytes, String transport, String address, byte[] remoteKey) {
    this.name = name;
    this.nodeId = nodeId;
    this.failureDomain = failureDomain;
    this.sizeBytes = sizeBytes;
    this.transport = transport;
    this.address = address;
    this.remoteKey = remoteKey;
  }

  /** @return name (see the class comment) */
  String name() {
    return name;
  }

  /** @return nodeId (see the class comment) */
  String nodeId() {
    return nodeId;
  }

  /** @return failureDomain (see the class comment) */
  String failureDomain() {
    return failureDomain;
  }

  /** @return sizeBytes (see the class comment) */
  long sizeBytes() {
    return sizeBytes;
  }

  /** @return transport (see the class comment) */
  String transport() {
    return transport;
  }

  /** @return address (see the class comment) */
  String address() {
    return address;
  }

  /** @return remoteKey (see the class comment) */
  byte[] remoteKey() {
    return remoteKey;
  }

  @Override
  public boolean equals(Object x) {
    return x instanceof SegmentRecord o && name.equals(o.name) && nodeId.equals(o.nodeId) && failureDomain.equals(o.failureDomain) && sizeBytes == o.sizeBytes && transport.equals(o.transport) && address.equals(o.address) && java.util.Arrays.equals(remoteKey, o.remoteKey);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(name, nodeId, failureDomain, sizeBytes, transport, address, java.util.Arrays.hashCode(remoteKey));
  }


  /** @return what shards of one block must not share: the domain if set, else the node */
  String failureUnit() {
    return failureDomain.isEmpty() ? "node " + nodeId : "domain " + failureDomain;
  }
}
