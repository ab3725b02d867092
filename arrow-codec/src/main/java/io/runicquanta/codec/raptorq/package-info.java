/**
 * RFC 6330 RaptorQ for one source block (or one sub-block): the systematic index table, the
 * constraint matrix, plans of symbol operations that are computed once per K (encoding) or per set
 * of received ESIs (decoding) and replayed over off-heap symbol memory.
 */
package io.runicquanta.codec.raptorq;
