package io.runicquanta.codec;

import io.runicquanta.codec.raptorq.DecodingPlan;
import io.runicquanta.codec.raptorq.SourceBlockDecoder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Decodes the source blocks of an RFC 6330 object from received encoding symbols held in off-heap
 * memory. Each source block is decoded on its own, sub-block by sub-block (section 4.4.1.2): the
 * decoding plan depends only on K and the received ESIs, so it is built once per call and replayed
 * for each of the N sub-blocks, in parallel on the executor.
 *
 * <p>Thread safety: immutable; concurrent calls for different blocks are fine. Memory: per running
 * sub-block about (received + K + L) sub-symbols of scratch from the allocator, freed before the
 * call returns. No threads of its own.
 */
public final class ObjectDecoder {
  private final BufferAllocator allocator;
  private final Oti oti;
  private final Executor executor;

  /**
   * @param allocator pays for scratch memory during each call
   * @param oti the object's parameters
   * @param executor runs the sub-blocks of a block; {@code Runnable::run} for the calling thread
   */
  public ObjectDecoder(BufferAllocator allocator, Oti oti, Executor executor) {
    this.allocator = allocator;
    this.oti = oti;
    this.executor = executor;
  }

  /** The object's OTI. */
  public Oti oti() {
    return oti;
  }

  /**
   * Recovers source block {@code sbn} and writes its bytes (the block's part of the object,
   * without the zero padding of the last block) to {@code object} at {@code objectOffset +
   * oti.sourceBlockOffset(sbn)}.
   *
   * @param esis the received symbols' ESIs, distinct, in the order the symbols sit in {@code
   *     received}
   * @param received esis.length symbols of T bytes each, contiguous at {@code offset}; read only
   * @param object receives the block's bytes; the buffer holds the whole object at objectOffset
   * @throws UndecodableBlockException if these symbols do not determine the block (more are needed),
   *     naming the block; nothing is written then
   * @throws IllegalArgumentException for an SBN out of range, a duplicate ESI or an ESI out of range
   * @throws IndexOutOfBoundsException if a buffer is too small
   */
  public void decodeSourceBlock(
      int sbn, int[] esis, ArrowBuf received, long offset, ArrowBuf object, long objectOffset) {
    if (sbn < 0 || sbn >= oti.sourceBlockCount()) {
      throw new IllegalArgumentException(
          "SBN = " + sbn + ", expected 0.." + (oti.sourceBlockCount() - 1));
    }
    Set<Integer> seen = new HashSet<>();
    for (int esi : esis) {
      if (esi < 0 || esi > PayloadId.MAX_ESI) {
        throw new IllegalArgumentException("ESI = " + esi + ", expected 0.." + PayloadId.MAX_ESI);
      }
      if (!seen.add(esi)) {
        throw new IllegalArgumentException("ESI " + esi + " given twice for source block " + sbn);
      }
    }
    int t = oti.symbolSize();
    int k = oti.sourceSymbols(sbn);
    long need = offset + (long) esis.length * t;
    if (offset < 0 || need > received.capacity()) {
      throw new IndexOutOfBoundsException(
          esis.length + " received symbols of " + t + " bytes at " + offset + " need " + need
              + " bytes, buffer has " + received.capacity());
    }
    long blockStart = oti.sourceBlockOffset(sbn);
    long blockBytes = oti.sourceBlockLength(sbn);
    if (objectOffset < 0 || objectOffset + blockStart + blockBytes > object.capacity()) {
      throw new IndexOutOfBoundsException(
          "object buffer of " + object.capacity() + " bytes cannot take block " + sbn + " ("
              + blockBytes + " bytes at " + (objectOffset + blockStart) + ")");
    }
    DecodingPlan plan;
    try {
      plan = DecodingPlan.build(k, esis);
    } catch (UndecodableBlockException e) {
      throw e.withBlock(sbn);
    }
    int a = esis.length;
    List<Runnable> tasks = new ArrayList<>();
    for (int sub = 0; sub < oti.subBlockCount(); sub++) {
      final int fsub = sub;
      tasks.add(
          () -> {
            int size = oti.subSymbolSize(fsub);
            int subOff = oti.subSymbolOffset(fsub);
            try (ArrowBuf in = allocator.buffer(Math.max(1, (long) a * size));
                ArrowBuf out = allocator.buffer((long) k * size)) {
              for (int i = 0; i < a; i++) {
                in.setBytes((long) i * size, received, offset + (long) i * t + subOff, size);
              }
              SourceBlockDecoder.decode(allocator, plan, size, in, 0, out, 0);
              long start = (long) k * subOff; // sub-block start within the block
              long len = Math.min((long) k * size, blockBytes - start);
              if (len > 0) {
                object.setBytes(objectOffset + blockStart + start, out, 0, len);
              }
            }
          });
    }
    Tasks.runAll(executor, tasks);
  }
}
