/**
 * The {@code tcp} transport: Java NIO blocking socket channels, one listening socket and one
 * connection per peer per rail, payload moved between the socket and the registered memory through
 * direct buffers over the segment (never through the Java heap). Wire format and target-side checks
 * are described in {@link io.runicquanta.transfer.tcp.TcpTransport}.
 */
package io.runicquanta.transfer.tcp;
