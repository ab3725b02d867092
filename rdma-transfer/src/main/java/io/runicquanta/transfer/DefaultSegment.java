package io.runicquanta.transfer;

import io.runicquanta.transfer.spi.MemoryRegistration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.arrow.memory.ArrowBuf;

/**
 * A segment of a {@link DefaultTransferEngine}. Accesses (remote requests on the target side, local
 * slices on the initiator side) pin it with {@link #tryAcquire()} / {@link #release()}; {@link
 * #close()} sets the closed bit so no new access starts, waits for pinned accesses to drain, then
 * deregisters and frees. The state word holds the closed bit (bit 62) and the pin count.
 */
final class DefaultSegment implements Segment {
  private static final long CLOSED = 1L << 62;
  private static final long DRAIN_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);

  final DefaultTransferEngine engine;
  final long key;
  private final String name;
  private final ArrowBuf buffer;
  private final boolean owned;
  private final long address;
  private final long length;
  private final AtomicLong state = new AtomicLong();
  private volatile MemoryRegistration registration;
  private volatile SegmentDescriptor descriptor;

  DefaultSegment(DefaultTransferEngine engine, long key, String name, ArrowBuf buffer, boolean owned) {
    this.engine = engine;
    this.key = key;
    this.name = name;
    this.buffer = buffer;
    this.owned = owned;
    this.address = buffer.memoryAddress();
    this.length = buffer.capacity();
  }

  void registered(MemoryRegistration registration, SegmentDescriptor descriptor) {
    this.registration = registration;
    this.descriptor = descriptor;
  }

  MemoryRegistration registration() {
    return registration;
  }

  boolean tryAcquire() {
    while (true) {
      long s = state.get();
      if ((s & CLOSED) != 0) {
        return false;
      }
      if (state.compareAndSet(s, s + 1)) {
        return true;
      }
    }
  }

  void release() {
    state.decrementAndGet();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public long address() {
    return address;
  }

  @Override
  public ArrowBuf buffer() {
    return buffer;
  }

  @Override
  public SegmentDescriptor descriptor() {
    return descriptor;
  }

  @Override
  public boolean isOpen() {
    return (state.get() & CLOSED) == 0;
  }

  @Override
  public void close() {
    long s;
    do {
      s = state.get();
      if ((s & CLOSED) != 0) {
        return;
      }
    } while (!state.compareAndSet(s, s | CLOSED));
    engine.forget(this);
    long deadline = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
    while ((state.get() & ~CLOSED) != 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "segment '" + name + "' still has " + (state.get() & ~CLOSED)
                + " accesses in progress after 60 s; memory not freed");
      }
      LockSupport.parkNanos(100_000);
    }
    try {
      MemoryRegistration r = registration;
      if (r != null) {
        r.close();
      }
    } finally {
      if (owned) {
        buffer.close();
      }
    }
  }

  @Override
  public String toString() {
    return "Segment[" + name + ", " + length + " bytes, engine " + engine.name() + "]";
  }
}
