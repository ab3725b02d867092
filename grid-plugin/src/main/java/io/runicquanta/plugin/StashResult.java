package io.runicquanta.plugin;

/**
 * What a stash stored.
 *
 * @param key the object's key
 * @param size bytes stored (the object's size)
 * @param blocks source blocks
 * @param storedBytes bytes written to segments over all shards (headers included)
 * @param lossTolerance m the object survives
 * @param nanos wall time of the stash
 */
public record StashResult(
    String key, long size, int blocks, long storedBytes, int lossTolerance, long nanos) {}
