/**
 * Protobuf messages and gRPC stubs of the master API, generated at build time from {@code
 * src/main/proto/master.proto}; see that file for field meanings and {@code
 * io.runicquanta.master.LayoutProtos} for the conversion to layout value types.
 */
package io.runicquanta.master.proto;
