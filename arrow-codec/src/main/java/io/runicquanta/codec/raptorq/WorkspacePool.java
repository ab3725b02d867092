package io.runicquanta.codec.raptorq;

import java.util.ArrayList;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;

/**
 * Off-heap memory for the codec's workspaces and source copies, kept between blocks so that the
 * pages are not mapped and faulted afresh for every block. Thread safe; share one pool per process
 * part (for example per node or per command) and close it when done.
 *
 * <h2>Why</h2>
 *
 * <p>An encoder or decoder needs about (L + K) x T bytes of scratch per block, freed when the block
 * is done. Measured on the development VM (glibc malloc behind Arrow's unsafe allocation manager):
 * those frees hand the memory back to the kernel (pieces above the mmap threshold are unmapped; a
 * thread arena's heap is deleted or shrunk with {@code MADV_DONTNEED} once its top is free), so the
 * next block touches fresh pages, each a fault of about 16 us per 4 KiB that is charged to the
 * coding thread: 34,505 faults (about 550 ms) per 64 MiB block at T = 1280, more than half of the
 * block's CPU time, and 2-5x run-to-run spread depending on what malloc's dynamic thresholds had
 * seen before. Buffers kept here are faulted once.
 *
 * <h2>Accounting and bounds</h2>
 *
 * <p>Every byte, in use or idle, is allocated from a child allocator of the allocator given to the
 * constructor ({@link #allocator()}), so it shows in the parent's {@code getAllocatedMemory()} and
 * limits. Buffers in use by an encoder or a decoder are bounded by what the callers run at once (as
 * without a pool); idle buffers are kept only up to {@code maxIdleBytes} in total (a buffer given
 * back beyond that is freed at once). {@link #trim()} frees every idle buffer (call it when the
 * process goes idle); {@link #close()} frees them and closes the child allocator; it throws if an encoder
 * still holds memory from the pool (a leak). The pool only recycles memory: contents are
 * never read before the codec writes them, and no plan or matrix is kept.
 *
 * <p>Reuse: a request takes the smallest idle buffer whose capacity is large enough and at most
 * twice the request (Arrow rounds requests below 16 MiB up to a power of two, so blocks of similar
 * sizes share buffers); otherwise a new buffer is allocated. If the allocator refuses it (its limit
 * or a parent's is reached), the idle buffers are freed and the allocation tried once more, so
 * idle memory never makes an allocation fail that would succeed without the pool.
 */
public final class WorkspacePool implements AutoCloseable {
  /** Default bound on idle memory: 256 MiB. */
  public static final long DEFAULT_MAX_IDLE_BYTES = 256L << 20;

  private final BufferAllocator allocator;
  private final long maxIdleBytes;
  private final ArrayList<ArrowBuf> idle = new ArrayList<>();
  private long idleBytes;
  private boolean closed;

  /**
   * A pool with the default bound on idle memory ({@link #DEFAULT_MAX_IDLE_BYTES}).
   *
   * @param parent the allocator the pool's child allocator is created from
   */
  public WorkspacePool(BufferAllocator parent) {
    this(parent, DEFAULT_MAX_IDLE_BYTES);
  }

  /**
   * A pool.
   *
   * @param parent the allocator the pool's child allocator is created from
   * @param maxIdleBytes the most idle memory kept between uses, bytes (0 keeps nothing)
   * @throws IllegalArgumentException if parent is null or maxIdleBytes is negative
   */
  public WorkspacePool(BufferAllocator parent, long maxIdleBytes) {
    if (parent == null) {
      throw new IllegalArgumentException("parent allocator is null");
    }
    if (maxIdleBytes < 0) {
      throw new IllegalArgumentException("maxIdleBytes = " + maxIdleBytes + ", expected >= 0");
    }
    this.allocator = parent.newChildAllocator("raptorq-workspace-pool", 0, Long.MAX_VALUE);
    this.maxIdleBytes = maxIdleBytes;
  }

  /** The child allocator every buffer of this pool (in use or idle) is accounted to. */
  public BufferAllocator allocator() {
    return allocator;
  }

  /** Idle bytes held right now. */
  public synchronized long idleBytes() {
    return idleBytes;
  }

  /** The bound on idle bytes. */
  public long maxIdleBytes() {
    return maxIdleBytes;
  }

  /**
   * A buffer of at least {@code bytes} bytes, contents undefined; give it back with {@link #give}.
   *
   * @throws IllegalStateException if the pool is closed
   * @throws org.apache.arrow.memory.OutOfMemoryException if the allocator refuses a new buffer
   */
  ArrowBuf take(long bytes) {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("workspace pool is closed");
      }
      int best = -1;
      long bestCap = Long.MAX_VALUE;
      for (int i = 0; i < idle.size(); i++) {
        long cap = idle.get(i).capacity();
        if (cap >= bytes && cap <= 2 * bytes && cap < bestCap) {
          best = i;
          bestCap = cap;
        }
      }
      if (best >= 0) {
        ArrowBuf b = idle.get(best);
        int last = idle.size() - 1;
        idle.set(best, idle.get(last));
        idle.remove(last);
        idleBytes -= bestCap;
        return b;
      }
    }
    try {
      return allocator.buffer(bytes);
    } catch (OutOfMemoryException e) {
      // idle buffers must never make an allocation fail that would succeed without the pool
      if (idleBytes() == 0) {
        throw e;
      }
      trim();
      return allocator.buffer(bytes);
    }
  }

  /** Takes back a buffer from {@link #take}; frees it if the idle bound would be exceeded. */
  void give(ArrowBuf b) {
    synchronized (this) {
      long cap = b.capacity();
      if (!closed && idleBytes + cap <= maxIdleBytes) {
        idle.add(b);
        idleBytes += cap;
        return;
      }
    }
    b.close();
  }

  /** Frees every idle buffer (buffers in use are not affected). */
  public void trim() {
    ArrayList<ArrowBuf> drop;
    synchronized (this) {
      drop = new ArrayList<>(idle);
      idle.clear();
      idleBytes = 0;
    }
    for (ArrowBuf b : drop) {
      b.close();
    }
  }

  /**
   * Frees the idle buffers and closes the child allocator; idempotent.
   *
   * @throws IllegalStateException if an encoder made from this pool is still open (the pool is then
   *     left open and can be closed again once the encoder is)
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      long inUse = allocator.getAllocatedMemory() - idleBytes;
      if (inUse > 0) {
        throw new IllegalStateException("workspace pool closed while " + inUse
            + " bytes are still in use by an open encoder or decoder");
      }
      closed = true;
    }
    trim();
    allocator.close();
  }

  /** Where a workspace gets its memory: an allocator directly, or a pool. */
  interface Source {
    ArrowBuf take(long bytes);

    void give(ArrowBuf b);

    static Source of(BufferAllocator a) {
      if (a == null) {
        throw new IllegalArgumentException("allocator is null");
      }
      return new Source() {
        @Override
        public ArrowBuf take(long bytes) {
          return a.buffer(bytes);
        }

        @Override
        public void give(ArrowBuf b) {
          b.close();
        }
      };
    }

    static Source of(WorkspacePool p) {
      if (p == null) {
        throw new IllegalArgumentException("workspace pool is null");
      }
      return new Source() {
        @Override
        public ArrowBuf take(long bytes) {
          return p.take(bytes);
        }

        @Override
        public void give(ArrowBuf b) {
          p.give(b);
        }
      };
    }
  }
}
