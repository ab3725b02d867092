/**
 * Benchmarks. Each measures its baseline (memory copy, XOR, socket copy, bare Ignite) in the same
 * run and reports ratios to it; forked JVMs get the project's JDK flags from {@link
 * io.runicquanta.bench.BenchFlags}.
 */
package io.runicquanta.bench;
