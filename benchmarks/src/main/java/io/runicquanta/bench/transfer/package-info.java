/**
 * Transfer engine throughput: {@link io.runicquanta.bench.transfer.TransferBenchmark} (a main class,
 * not JMH, because it drives a second process) measures local, tcp and fabric against a plain Java
 * socket copy and a memory copy measured in the same run.
 */
package io.runicquanta.bench.transfer;
