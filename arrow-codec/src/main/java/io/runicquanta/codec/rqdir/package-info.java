/**
 * The Rust RQ library's directory format, read and written byte for byte: {@code
 * _raptorq_layout.json} plus one {@code block_<id>/<name>} file per symbol, where each file is the
 * 4-byte FEC payload id followed by T symbol bytes and its name is the base58 BLAKE3-256 digest of
 * the file. Encoding and decoding stream through files one sub-block at a time, so memory stays
 * bounded by the decoder working memory (10 MiB) per thread whatever the file size.
 */
package io.runicquanta.codec.rqdir;
