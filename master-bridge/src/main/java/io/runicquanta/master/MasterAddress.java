package io.runicquanta.master;

import java.io.Serializable;

/**
 * Where the master's gRPC server listens, as published in the address cache by the node hosting
 * the master. Immutable.
 *
 * <p>{@code host}: host name or address to connect to
 * <p>{@code port}: TCP port
 * <p>{@code nodeId}: Ignite node id of the hosting node
 * <p>{@code pid}: process id of the hosting JVM
 * <p>{@code startedMillis}: when this master started serving, ms since the epoch
 */
public final class MasterAddress implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String host;
  private final int port;
  private final String nodeId;
  private final long pid;
  private final long startedMillis;

  /** Creates the value; see the class comment for the fields. */
  public MasterAddress(String host, int port, String nodeId, long pid, long startedMillis) {
    this.host = host;
    this.port = port;
    this.nodeId = nodeId;
    this.pid = pid;
    this.startedMillis = startedMillis;
  }

  /** @return host (see the class comment) */
  public String host() {
    return host;
  }

  /** @return port (see the class comment) */
  public int port() {
    return port;
  }

  /** @return nodeId (see the class comment) */
  public String nodeId() {
    return nodeId;
  }

  /** @return pid (see the class comment) */
  public long pid() {
    return pid;
  }

  /** @return startedMillis (see the class comment) */
  public long startedMillis() {
    return startedMillis;
  }

  @Override
  public boolean equals(Object x) {
    return x instanceof MasterAddress o && host.equals(o.host) && port == o.port && nodeId.equals(o.nodeId) && pid == o.pid && startedMillis == o.startedMillis;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(host, port, nodeId, pid, startedMillis);
  }


  @Override
  public String toString() {
    return host + ":" + port + " (node " + nodeId + ", pid " + pid + ")";
  }
}
