package io.runicquanta.bench.transfer;

import io.runicquanta.transfer.Segment;
import io.runicquanta.transfer.TransferEngine;
import io.runicquanta.transfer.TransferRequest;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * Splits the cost of a {@code local} 64 KiB request (not a benchmark of record; {@link
 * TransferBenchmark} is): in one JVM, rounds of
 *
 * <ul>
 *   <li>{@code memcpy-fresh}: the copy loop of {@code TransferBenchmark}'s memcpy baseline as it was up to
 *       2026-12-01 (two freshly allocated and zeroed buffers per run);
 *   <li>{@code memcpy-seg}: the same loop between the engine's own two segments (the addresses the
 *       engine copies between);
 *   <li>{@code memcpy-seg+rmw}: that loop with one atomic increment after each copy (a locked
 *       instruction waits for the copy's pending stores);
 *   <li>{@code engine}: the engine's batches of the same requests.
 * </ul>
 *
 * each for {@code rq.probe.seconds} (default 1) after as long a warm-up, printing wall and
 * submitting-thread CPU ns per request, and the addresses modulo 4096 of every buffer. {@code
 * -Drq.probe.size}, {@code -Drq.probe.rounds}, {@code -Drq.probe.op} (WRITE or READ), {@code
 * -Drq.probe.rails}.
 */
public final class LocalCopyProbe {
  private LocalCopyProbe() {}

  static final long SEG = 64L << 20;
  static final long BATCH = Long.getLong("rq.probe.batch", 32L << 20);

  public static void main(String[] args) throws Exception {
    long size = Long.getLong("rq.probe.size", 65536);
    int rounds = Integer.getInteger("rq.probe.rounds", 6);
    double seconds = Double.parseDouble(System.getProperty("rq.probe.seconds", "1"));
    String op = System.getProperty("rq.probe.op", "WRITE");
    int rails = Integer.getInteger("rq.probe.rails", 1);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    try (RootAllocator root = new RootAllocator(Long.MAX_VALUE);
        TransferEngine peer = TransferBenchmark.engine(root, "local", 4, Map.of(), "probe-peer");
        Segment target = peer.allocateSegment("t", SEG);
        TransferEngine engine = TransferBenchmark.engine(root, "local", rails, Map.of(), "probe");
        Segment local = engine.allocateSegment("s", SEG)) {
      System.out.printf(Locale.ROOT, "segments: local %% 4096 = %d, target %% 4096 = %d%n",
          local.address() % 4096, target.address() % 4096);
      List<TransferRequest> batch = new ArrayList<>();
      for (long off = 0; off < BATCH; off += size) {
        batch.add(op.equals("WRITE")
            ? TransferRequest.write(local, off, target.descriptor(), off, size)
            : TransferRequest.read(local, off, target.descriptor(), off, size));
      }
      long segSrc = op.equals("WRITE") ? local.address() : target.address();
      long segDst = op.equals("WRITE") ? target.address() : local.address();
      for (int round = 0; round < rounds; round++) {
        try (ArrowBuf src = root.buffer(SEG); ArrowBuf dst = root.buffer(SEG)) {
          src.setZero(0, SEG);
          dst.setZero(0, SEG);
          if (round == 0) {
            System.out.printf(Locale.ROOT, "fresh: src %% 4096 = %d, dst %% 4096 = %d%n",
                src.memoryAddress() % 4096, dst.memoryAddress() % 4096);
          }
          long a = src.memoryAddress();
          long b = dst.memoryAddress();
          report("memcpy-fresh", size, run(mx, seconds, () -> copyLoop(a, b, size)));
        }
        report("memcpy-seg", size, run(mx, seconds, () -> copyLoop(segSrc, segDst, size)));
        report("memcpy-seg+rmw", size, run(mx, seconds, () -> copyLoopAtomic(segSrc, segDst, size)));
        report("engine", size, run(mx, seconds, () -> {
          engine.submit(batch).future().get(60, TimeUnit.SECONDS);
        }));
      }
    }
  }

  static void copyLoop(long src, long dst, long size) {
    for (long off = 0; off < BATCH; off += size) {
      MemoryUtil.copyMemory(src + off, dst + off, size);
    }
  }

  static final java.util.concurrent.atomic.AtomicLong COUNTER = new java.util.concurrent.atomic.AtomicLong();

  /** {@link #copyLoop} with one atomic read-modify-write (a full fence on x86) after each copy. */
  static void copyLoopAtomic(long src, long dst, long size) {
    for (long off = 0; off < BATCH; off += size) {
      MemoryUtil.copyMemory(src + off, dst + off, size);
      COUNTER.incrementAndGet();
    }
  }

  interface Step {
    void run() throws Exception;
  }

  /** {wall ns, thread CPU ns, requests}. */
  static long[] run(ThreadMXBean mx, double seconds, Step step) throws Exception {
    long warm = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < warm) {
      step.run();
    }
    long n = 0;
    long c0 = mx.getCurrentThreadCpuTime();
    long t0 = System.nanoTime();
    long end = t0 + (long) (seconds * 1e9);
    do {
      step.run();
      n++;
    } while (System.nanoTime() < end);
    return new long[] {System.nanoTime() - t0, mx.getCurrentThreadCpuTime() - c0, n};
  }

  static void report(String what, long size, long[] r) {
    long reqs = r[2] * (BATCH / size);
    System.out.printf(Locale.ROOT, "%-13s %6.2f GB/s  wall %6.0f ns/req  cpu %6.0f ns/req%n", what,
        (double) r[2] * BATCH / r[0], (double) r[0] / reqs, (double) r[1] / reqs);
  }
}
