/**
 * Shared JUnit 5 fixtures for Runic Quanta's test suites: a per-test Arrow allocator that fails the
 * test when it leaks ({@link AllocatorExtension}), deterministic test data ({@link SplitMix64}), and
 * the rule for tests that need something this machine may lack ({@link TestEnv#requireOrSkip}), and
 * child JVMs (node processes) started, killed and always cleaned up ({@link NodeProcess}, {@link
 * NodeCluster}).
 */
package io.runicquanta.testing;
