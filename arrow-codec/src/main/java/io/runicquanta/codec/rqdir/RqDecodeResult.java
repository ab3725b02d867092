package io.runicquanta.codec.rqdir;

/**
 * What a directory decode did. Immutable.
 *
 * @param bytes bytes written to the output
 * @param blocks layout blocks decoded
 * @param symbolsUsed symbols fed to the decoder (all blocks)
 * @param symbolsListed symbol names in the layout
 * @param missing listed files that were absent or unreadable
 * @param corrupt files whose content did not match their name (BLAKE3), skipped as erasures
 * @param duplicates files repeating an ESI already used, skipped
 * @param retries times a block needed more symbols after a failed decoding attempt
 */
public record RqDecodeResult(
    long bytes, int blocks, long symbolsUsed, long symbolsListed, long missing, long corrupt, long duplicates, long retries) {}
