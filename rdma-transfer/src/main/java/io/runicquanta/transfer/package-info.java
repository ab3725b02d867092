/**
 * The transfer engine: off-heap {@link io.runicquanta.transfer.Segment}s registered with a transport,
 * addressed remotely by a serializable {@link io.runicquanta.transfer.SegmentDescriptor}, and batches
 * of one-sided READ/WRITE {@link io.runicquanta.transfer.TransferRequest}s striped over several rails
 * ({@link io.runicquanta.transfer.TransferEngine}). Transports plug in through {@link
 * io.runicquanta.transfer.spi}: {@code local} (same JVM), {@code tcp} (Java NIO) and {@code fabric}
 * (libfabric RMA through JNA). Knows nothing of Ignite, gRPC or the codec.
 */
package io.runicquanta.transfer;
