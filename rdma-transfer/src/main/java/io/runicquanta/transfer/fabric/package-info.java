/**
 * The {@code fabric} transport: libfabric one-sided RMA ({@code fi_write}/{@code fi_read} on
 * registered memory) through JNA, following libfabric's ops-table function pointers because its data
 * calls are static inline functions. Runs on {@code verbs;ofi_rxm} or {@code efa} on RDMA hardware and
 * on {@code tcp;ofi_rxm} or {@code shm} without it, with the same code path. See {@link
 * io.runicquanta.transfer.fabric.FabricTransport} for the call sequence and {@link
 * io.runicquanta.transfer.fabric.LibFabric} for the native binding and its availability probe.
 */
package io.runicquanta.transfer.fabric;
