package io.runicquanta.transfer;

import java.util.Map;
import java.util.zip.CRC32;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The target side of the contract tests: an engine with one segment named {@code target} that sits
 * between two guard zones of a larger buffer, so a write outside the segment shows up. Used in the
 * test JVM and inside {@link TransferPeerMain} in a second process.
 */
final class PeerNode implements AutoCloseable {
  static final int GUARD = 4096;
  static final byte GUARD_BYTE = (byte) 0xA5;

  final TransferEngine engine;
  private final ArrowBuf memory;
  private final long size;
  private Segment segment;

  PeerNode(BufferAllocator allocator, String transport, int rails, Map<String, String> options, long size) {
    TransferEngineBuilder b = TransferEngine.builder().name("peer-" + ProcessHandle.current().pid() + "-" + System.nanoTime())
        .allocator(allocator).transport(transport).rails(rails);
    options.forEach(b::option);
    this.engine = b.build();
    this.size = size;
    this.memory = allocator.buffer(size + 2L * GUARD);
    memory.setZero(0, memory.capacity());
    for (int i = 0; i < GUARD; i++) {
      memory.setByte(i, GUARD_BYTE);
      memory.setByte(GUARD + size + i, GUARD_BYTE);
    }
    this.segment = engine.registerSegment("target", memory.slice(GUARD, size));
  }

  SegmentDescriptor descriptor() {
    return segment.descriptor();
  }

  long crc(long offset, long length) {
    CRC32 crc = new CRC32();
    crc.update(memory.nioBuffer(GUARD + offset, (int) length));
    return crc.getValue();
  }

  boolean guardsIntact() {
    for (int i = 0; i < GUARD; i++) {
      if (memory.getByte(i) != GUARD_BYTE || memory.getByte(GUARD + size + i) != GUARD_BYTE) {
        return false;
      }
    }
    return true;
  }

  void closeSegment() {
    segment.close();
  }

  @Override
  public void close() {
    try {
      engine.close();
    } finally {
      memory.close();
    }
  }
}
