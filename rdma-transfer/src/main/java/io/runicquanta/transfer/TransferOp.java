package io.runicquanta.transfer;

/** Direction of a one-sided transfer, seen from the initiator. */
public enum TransferOp {
  /** Copy bytes from the remote segment into the local segment. */
  READ,
  /** Copy bytes from the local segment into the remote segment. */
  WRITE
}
