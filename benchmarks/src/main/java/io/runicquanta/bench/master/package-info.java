/**
 * Benchmarks of the master service: PutStart+PutEnd pairs per second and GetReplicaList latency
 * against three server JVMs, with a bare Ignite transactional loop on the same caches as baseline.
 */
package io.runicquanta.bench.master;
