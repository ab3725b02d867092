/** The object codec: RFC 6330 RaptorQ over off-heap memory, object layouts, and file formats. */
package io.runicquanta.codec;
