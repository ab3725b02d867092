package io.runicquanta.transfer.spi;

import io.runicquanta.transfer.SegmentDescriptor;
import io.runicquanta.transfer.TransferOp;

/**
 * One slice the engine hands a transport: at most the slice size, on one rail.
 *
 * @param op direction
 * @param local registration of the local segment (the transport's own type)
 * @param localAddress native address of the slice's first local byte (inside the local segment,
 *     pinned open by the engine until the slice completes)
 * @param remote the remote segment's descriptor
 * @param remoteOffset byte offset in the remote segment
 * @param length bytes, at least 1
 */
public record SliceOp(
    TransferOp op,
    MemoryRegistration local,
    long localAddress,
    SegmentDescriptor remote,
    long remoteOffset,
    int length) {}
