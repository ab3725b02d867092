/**
 * The placement of a stored object, as plain immutable values: {@link
 * io.runicquanta.codec.layout.ObjectLayout} (key, size, 12-byte OTI, loss tolerance, blocks), {@link
 * io.runicquanta.codec.layout.BlockLayout} (one source block and its shards) and {@link
 * io.runicquanta.codec.layout.ShardLayout} (one contiguous region of a segment holding a run of
 * ESIs, with its CRC32C). The master service hands these out; the grid plugin writes and reads the
 * shards they describe. No Ignite, gRPC or Arrow types appear here. All types are thread safe.
 */
package io.runicquanta.codec.layout;
