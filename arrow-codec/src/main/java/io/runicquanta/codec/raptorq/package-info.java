/**
 * RFC 6330 RaptorQ for one source block (or one sub-block): the systematic index table, the
 * constraint matrix, plans of symbol operations that are computed once per K (encoding) or per set
 * of received ESIs (decoding) and replayed over off-heap symbol memory.
 *
 * <p>Public entry points: {@link io.runicquanta.codec.raptorq.EncodingPlan} and {@link
 * io.runicquanta.codec.raptorq.SourceBlockEncoder} (intermediate symbols, then any ESI), {@link
 * io.runicquanta.codec.raptorq.DecodingPlan} and {@link
 * io.runicquanta.codec.raptorq.SourceBlockDecoder}, {@link
 * io.runicquanta.codec.raptorq.SystematicParams}. Plans are immutable, hold only int/long/byte
 * arrays and are shared by all sub-blocks of a block (same K, same received ESIs). Internals:
 * {@code PlanBuilder} (the elimination, design notes there), {@code SymbolProgram} (the recorded
 * operations), {@code SymbolOps} (word-wise XOR and GF(256) arithmetic on addresses), {@code
 * Tiling} (cache-sized tiles of the workspace), {@code Rfc6330Tables} (generated from the RFC
 * text by {@code arrow-codec/src/tools/gen_rfc6330_tables.py}).
 */
package io.runicquanta.codec.raptorq;
