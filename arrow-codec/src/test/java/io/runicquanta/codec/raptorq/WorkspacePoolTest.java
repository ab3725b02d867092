package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.SplitMix64;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link WorkspacePool}: pooled encoders and decoders give the same bytes as unpooled ones, reuse
 * the memory (the pool's allocator does not grow on the second block), keep idle memory within the
 * bound and accounted to the parent allocator, and refuse to close while an encoder holds memory.
 */
@ExtendWith(AllocatorExtension.class)
class WorkspacePoolTest {
  private static final int K = 700;
  private static final int T = 3000; // workspace of several tiles

  @Test
  void pooledCodingMatchesUnpooledAndReusesMemory(BufferAllocator alloc) {
    int repair = 80;
    int lost = 75;
    EncodingPlan plan = EncodingPlan.forSourceSymbols(K);
    int[] esis = new int[K + 5];
    for (int q = 0; q < esis.length; q++) {
      esis[q] = lost + q;
    }
    DecodingPlan dplan = DecodingPlan.build(K, esis);
    long n = (long) (K + repair) * T;
    try (WorkspacePool pool = new WorkspacePool(alloc);
        ArrowBuf src = alloc.buffer((long) K * T);
        ArrowBuf plain = alloc.buffer(n);
        ArrowBuf pooled = alloc.buffer(n);
        ArrowBuf back = alloc.buffer((long) K * T)) {
      src.setBytes(0, SplitMix64.bytes(42, K * T));
      long base = alloc.getAllocatedMemory();
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, T, src, 0)) {
        for (int e = 0; e < K + repair; e++) {
          enc.encodeSymbol(e, plain, (long) e * T);
        }
      }
      long firstPeak = -1;
      for (int round = 0; round < 3; round++) {
        pooled.setZero(0, n);
        try (SourceBlockEncoder enc = SourceBlockEncoder.create(pool, plan, T, src, 0)) {
          long used = pool.allocator().getAllocatedMemory();
          if (round == 0) {
            firstPeak = used;
            assertTrue(used >= (long) (plan.slots() + K) * T, "pool holds the workspace: " + used);
          } else {
            assertEquals(firstPeak, used, "round " + round + " reused the pooled buffers");
          }
          for (int e = 0; e < K + repair; e++) {
            enc.encodeSymbol(e, pooled, (long) e * T);
          }
        }
        for (long i = 0; i < n; i += 8) {
          assertEquals(plain.getLong(i), pooled.getLong(i), "byte " + i + " round " + round);
        }
        // Idle memory stays with the pool and is accounted to the caller's allocator.
        assertEquals(firstPeak, pool.idleBytes());
        assertEquals(base + firstPeak, alloc.getAllocatedMemory());
      }
      // Decoding from the same pool (reuses the idle buffers that fit) recovers the source.
      SourceBlockDecoder.decode(pool, dplan, T, plain, (long) lost * T, back, 0);
      for (long i = 0; i < (long) K * T; i += 8) {
        assertEquals(src.getLong(i), back.getLong(i), "decoded byte " + i);
      }
      assertTrue(pool.allocator().getAllocatedMemory() <= 2 * firstPeak);
      pool.trim();
      assertEquals(0, pool.idleBytes());
      assertEquals(0, pool.allocator().getAllocatedMemory());
      assertEquals(base, alloc.getAllocatedMemory());
    }
  }

  @Test
  void idleMemoryIsBoundedAndCloseDetectsAnOpenEncoder(BufferAllocator alloc) {
    EncodingPlan plan = EncodingPlan.forSourceSymbols(K);
    try (ArrowBuf src = alloc.buffer((long) K * T)) {
      src.setZero(0, src.capacity());
      long bound = 1L << 20; // below one workspace: only some pieces are kept
      WorkspacePool pool = new WorkspacePool(alloc, bound);
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(pool, plan, T, src, 0)) {
        assertTrue(pool.allocator().getAllocatedMemory() > bound);
      }
      assertTrue(pool.idleBytes() <= bound, "idle " + pool.idleBytes());
      assertEquals(pool.idleBytes(), pool.allocator().getAllocatedMemory());
      SourceBlockEncoder open = SourceBlockEncoder.create(pool, plan, T, src, 0);
      IllegalStateException e = assertThrows(IllegalStateException.class, pool::close);
      assertTrue(e.getMessage().contains("still in use"), e.getMessage());
      open.close();
      assertTrue(pool.idleBytes() <= bound);
      pool.close();
      assertEquals(0, alloc.getAllocatedMemory() - src.capacity());
      assertThrows(IllegalStateException.class,
          () -> SourceBlockEncoder.create(pool, plan, T, src, 0));
    }
    assertThrows(IllegalArgumentException.class, () -> new WorkspacePool(alloc, -1));
    assertThrows(IllegalArgumentException.class, () -> new WorkspacePool(null));
  }

  @Test
  void idleBuffersAreFreedWhenTheAllocatorLimitWouldRefuseANewOne(BufferAllocator alloc) {
    EncodingPlan plan = EncodingPlan.forSourceSymbols(K);
    int small = 1000; // its buffers are too small to serve a block of T = 3000
    long needBig;
    long idleSmall;
    try (WorkspacePool probe = new WorkspacePool(alloc);
        ArrowBuf src = alloc.buffer((long) K * T)) {
      src.setZero(0, src.capacity());
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(probe, plan, T, src, 0)) {
        needBig = probe.allocator().getAllocatedMemory();
      }
      probe.trim();
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(probe, plan, small, src, 0)) {
        assertTrue(probe.allocator().getAllocatedMemory() < needBig);
      }
      idleSmall = probe.idleBytes();
    }
    assertTrue(idleSmall > 0, "the small block left idle buffers");
    try (BufferAllocator limited = alloc.newChildAllocator("limited", 0, Long.MAX_VALUE);
        WorkspacePool pool = new WorkspacePool(limited);
        ArrowBuf src = limited.buffer((long) K * T);
        ArrowBuf plain = alloc.buffer((long) (K + 10) * T);
        ArrowBuf pooled = alloc.buffer((long) (K + 10) * T)) {
      src.setBytes(0, SplitMix64.bytes(7, K * T));
      // room for the source (as accounted, rounded up), a big block's workspace and half the idle
      limited.setLimit(limited.getAllocatedMemory() + needBig + idleSmall / 2);
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(pool, plan, small, src, 0)) {
        enc.encodeSymbol(0, pooled, 0);
      }
      assertEquals(idleSmall, pool.idleBytes());
      // idle + a new workspace exceed the limit; the workspace alone fits: the pool frees its idle
      // buffers and the encoder is built
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(pool, plan, T, src, 0)) {
        for (int e = 0; e < K + 10; e++) {
          enc.encodeSymbol(e, pooled, (long) e * T);
        }
      }
      try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, T, src, 0)) {
        for (int e = 0; e < K + 10; e++) {
          enc.encodeSymbol(e, plain, (long) e * T);
        }
      }
      for (long i = 0; i < (long) (K + 10) * T; i += 8) {
        assertEquals(plain.getLong(i), pooled.getLong(i), "byte " + i);
      }
    }
  }
}
