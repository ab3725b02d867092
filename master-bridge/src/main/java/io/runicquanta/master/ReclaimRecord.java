package io.runicquanta.master;

import java.io.Serializable;

/**
 * Space of a removed object whose freeing waits for read leases to end; stored in the reclaim cache
 * (key: a random id) in the same transaction that removes the object, so a master that starts
 * after a crash still knows the space is taken and frees it one read lease later.
 *
 * <p>{@code key}: the removed object's key
 * <p>{@code layout}: its serialized {@code ReplicaInfo}
 */
final class ReclaimRecord implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String key;
  private final byte[] layout;

  /** Creates the value; see the class comment for the fields. */
  ReclaimRecord(String key, byte[] layout) {
    this.key = key;
    this.layout = layout;
  }

  /** @return key (see the class comment) */
  String key() {
    return key;
  }

  /** @return layout (see the class comment) */
  byte[] layout() {
    return layout;
  }

  @Override
  public boolean equals(Object x) {
    return x instanceof ReclaimRecord o && key.equals(o.key) && java.util.Arrays.equals(layout, o.layout);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(key, java.util.Arrays.hashCode(layout));
  }
}
