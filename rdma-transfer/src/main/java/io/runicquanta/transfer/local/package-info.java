/**
 * The {@code local} transport: peers are engines in the same JVM, found through a process-wide
 * table; a slice is one memory copy on the initiator's rail thread, after the target engine checked
 * the request.
 */
package io.runicquanta.transfer.local;
