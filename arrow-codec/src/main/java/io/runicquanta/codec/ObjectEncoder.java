package io.runicquanta.codec;

import io.runicquanta.codec.raptorq.EncodingPlan;
import io.runicquanta.codec.raptorq.SourceBlockEncoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Encodes a whole RFC 6330 object held in off-heap memory: Z source blocks of N sub-blocks each,
 * every sub-block an independent RaptorQ code over its sub-symbols (section 4.4.1.2). Any encoding
 * symbol (SBN, ESI) can then be produced, as the concatenation of the N sub-symbols with that ESI.
 *
 * <p>Usage:
 *
 * <pre>{@code
 * Oti oti = Oti.forRqLibrary(object.capacity(), 65535);
 * try (ObjectEncoder enc = ObjectEncoder.create(allocator, oti, object, 0, executor)) {
 *   enc.encodeSymbols(0, new int[] {0, 1, enc.sourceSymbols(0)}, dst, 0); // 3 * T bytes
 * }
 * }</pre>
 *
 * <p>Memory: the encoder holds the intermediate symbols of every sub-block (about (K'+S+H)/K times
 * the object) in buffers of the given allocator until {@link #close()}; the object itself is read
 * during {@link #create} only. For objects larger than memory use the streaming directory encoder
 * ({@code io.runicquanta.codec.rqdir}), which works one sub-block at a time.
 *
 * <p>Thread safety: {@link #encodeSymbols} may be called from several threads at once; {@link
 * #close()} must not race with them. Threads: none of its own; sub-blocks are prepared in parallel
 * on the executor given to {@link #create}.
 */
public final class ObjectEncoder implements AutoCloseable {
  private final Oti oti;
  private final SourceBlockEncoder[][] encoders; // [sbn][sub-block]
  private volatile boolean closed;

  private ObjectEncoder(Oti oti, SourceBlockEncoder[][] encoders) {
    this.oti = oti;
    this.encoders = encoders;
  }

  /**
   * Computes the intermediate symbols of every sub-block of every source block, in parallel on
   * {@code executor}; one plan per distinct K is shared by all of its sub-blocks (the plan depends
   * only on K).
   *
   * @param allocator pays for the intermediate symbols (kept until close) and for a zero-padded copy
   *     of the last source block's sub-blocks (freed before returning)
   * @param oti the object's parameters; {@code object} holds F = oti.transferLength() bytes
   * @param object the object's bytes at {@code offset}; read during this call only
   * @param executor runs the per-sub-block work; a direct executor ({@code Runnable::run}) is fine
   * @throws IllegalArgumentException if F is 0 or the buffer is shorter than offset + F
   */
  public static ObjectEncoder create(
      BufferAllocator allocator, Oti oti, ArrowBuf object, long offset, Executor executor) {
    long f = oti.transferLength();
    if (f == 0) {
      throw new IllegalArgumentException("OTI transfer length F = 0: nothing to encode");
    }
    if (offset < 0 || offset + f > object.capacity()) {
      throw new IllegalArgumentException(
          "object buffer of " + object.capacity() + " bytes cannot hold F = " + f + " bytes at offset " + offset);
    }
    int z = oti.sourceBlockCount();
    int n = oti.subBlockCount();
    SourceBlockEncoder[][] encoders = new SourceBlockEncoder[z][n];
    Map<Integer, EncodingPlan> plans = new HashMap<>();
    List<Runnable> tasks = new ArrayList<>();
    for (int sbn = 0; sbn < z; sbn++) {
      int k = oti.sourceSymbols(sbn);
      EncodingPlan plan = plans.computeIfAbsent(k, EncodingPlan::forSourceSymbols);
      long blockStart = oti.sourceBlockOffset(sbn);
      for (int sub = 0; sub < n; sub++) {
        final int fsbn = sbn;
        final int fsub = sub;
        tasks.add(
            () -> {
              int size = oti.subSymbolSize(fsub);
              long start = blockStart + (long) k * oti.subSymbolOffset(fsub);
              long len = (long) k * size;
              if (start + len <= f) {
                encoders[fsbn][fsub] =
                    SourceBlockEncoder.create(allocator, plan, size, object, offset + start);
              } else {
                try (ArrowBuf padded = allocator.buffer(len)) {
                  padded.setZero(0, len);
                  long have = Math.max(0, f - start);
                  if (have > 0) {
                    padded.setBytes(0, object, offset + start, have);
                  }
                  encoders[fsbn][fsub] = SourceBlockEncoder.create(allocator, plan, size, padded, 0);
                }
              }
            });
      }
    }
    boolean ok = false;
    try {
      Tasks.runAll(executor, tasks);
      ok = true;
      return new ObjectEncoder(oti, encoders);
    } finally {
      if (!ok) {
        closeAll(encoders);
      }
    }
  }

  /** The object's OTI. */
  public Oti oti() {
    return oti;
  }

  /** K of source block {@code sbn}. */
  public int sourceSymbols(int sbn) {
    return oti.sourceSymbols(sbn);
  }

  /**
   * Writes the encoding symbols with the given ESIs of source block {@code sbn} to {@code dst}, one
   * after the other, T bytes each, starting at {@code dstOffset}.
   *
   * @throws IllegalArgumentException for an SBN or ESI out of range
   * @throws IndexOutOfBoundsException if dst is too small
   * @throws IllegalStateException after close
   */
  public void encodeSymbols(int sbn, int[] esis, ArrowBuf dst, long dstOffset) {
    if (closed) {
      throw new IllegalStateException("ObjectEncoder is closed");
    }
    if (sbn < 0 || sbn >= oti.sourceBlockCount()) {
      throw new IllegalArgumentException(
          "SBN = " + sbn + ", expected 0.." + (oti.sourceBlockCount() - 1));
    }
    int t = oti.symbolSize();
    long need = dstOffset + (long) esis.length * t;
    if (dstOffset < 0 || need > dst.capacity()) {
      throw new IndexOutOfBoundsException(
          esis.length + " symbols of " + t + " bytes at offset " + dstOffset + " need " + need
              + " bytes, buffer has " + dst.capacity());
    }
    for (int i = 0; i < esis.length; i++) {
      int esi = esis[i];
      if (esi < 0 || esi > PayloadId.MAX_ESI) {
        throw new IllegalArgumentException("ESI = " + esi + ", expected 0.." + PayloadId.MAX_ESI);
      }
      for (int sub = 0; sub < oti.subBlockCount(); sub++) {
        encoders[sbn][sub].encodeSymbol(esi, dst, dstOffset + (long) i * t + oti.subSymbolOffset(sub));
      }
    }
  }

  /** Frees all intermediate symbols; idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      closeAll(encoders);
    }
  }

  private static void closeAll(SourceBlockEncoder[][] encoders) {
    for (SourceBlockEncoder[] row : encoders) {
      for (SourceBlockEncoder e : row) {
        if (e != null) {
          e.close();
        }
      }
    }
  }
}
