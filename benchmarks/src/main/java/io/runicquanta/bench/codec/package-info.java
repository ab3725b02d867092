/**
 * RaptorQ codec benchmarks: encode and decode of one source block (plan built from scratch and
 * cached), several blocks on an executor, and the XOR of the same bytes as the physical baseline
 * of the same run; {@link io.runicquanta.bench.codec.CodecSpeedReport} runs them and prints MB/s
 * and ratios.
 */
package io.runicquanta.bench.codec;
