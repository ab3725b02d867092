package io.runicquanta.bench.codec;

import io.runicquanta.codec.raptorq.EncodingPlan;
import io.runicquanta.codec.raptorq.SourceBlockEncoder;
import io.runicquanta.codec.raptorq.WorkspacePool;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A 64 MiB object cut into 4 source blocks of 16 MiB, each encoded (plan from scratch, source
 * symbols plus 10% repair) as a task on an executor of {@code threads} threads; the speed-up of 2
 * threads over 1 is the figure of interest (target 1.5x on 2 cores).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch",
    "--add-opens=java.base/java.nio=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class MultiBlockBenchmark {
  @Param({"1", "2"})
  public int threads;

  @Param({"1280"})
  public int symbolSize;

  static final int BLOCKS = 4;
  static final int BLOCK_MIB = 16;

  private BufferAllocator alloc;
  private WorkspacePool wsPool;
  private ArrowBuf source;
  private ArrowBuf[] outs;
  private ExecutorService pool;
  private int k;
  private int repair;

  @Setup(Level.Trial)
  public void setUp() {
    alloc = new RootAllocator();
    wsPool = new WorkspacePool(alloc, 1L << 30);
    k = (int) (((long) BLOCK_MIB << 20) / symbolSize + 1);
    repair = (k + 9) / 10;
    source = alloc.buffer((long) BLOCKS * k * symbolSize);
    long x = 12345;
    for (long i = 0; i + 8 <= source.capacity(); i += 8) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      source.setLong(i, x);
    }
    outs = new ArrowBuf[BLOCKS];
    for (int b = 0; b < BLOCKS; b++) {
      outs[b] = alloc.buffer((long) (k + repair) * symbolSize);
    }
    pool = Executors.newFixedThreadPool(threads);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws InterruptedException {
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    for (ArrowBuf o : outs) {
      o.close();
    }
    wsPool.close();
    source.close();
    alloc.close();
  }

  @Benchmark
  public long encodeFourBlocks() {
    CompletableFuture<?>[] fs = new CompletableFuture<?>[BLOCKS];
    for (int b = 0; b < BLOCKS; b++) {
      final int block = b;
      fs[b] = CompletableFuture.runAsync(() -> encodeBlock(block), pool);
    }
    CompletableFuture.allOf(fs).join();
    return outs[0].getLong(0);
  }

  /** Thread CPU nanoseconds spent in {@link #encodeBlock} by all threads since the last reset. */
  final java.util.concurrent.atomic.LongAdder cpuNanos = new java.util.concurrent.atomic.LongAdder();

  private void encodeBlock(int b) {
    long c0 = CPU.getCurrentThreadCpuTime();
    try {
      encodeBlockNow(b);
    } finally {
      cpuNanos.add(CPU.getCurrentThreadCpuTime() - c0);
    }
  }

  private static final java.lang.management.ThreadMXBean CPU =
      java.lang.management.ManagementFactory.getThreadMXBean();

  private void encodeBlockNow(int b) {
    EncodingPlan plan = EncodingPlan.forSourceSymbols(k);
    long off = (long) b * k * symbolSize;
    try (SourceBlockEncoder enc = SourceBlockEncoder.create(wsPool, plan, symbolSize, source, off)) {
      for (int e = 0; e < k + repair; e++) {
        enc.encodeSymbol(e, outs[b], (long) e * symbolSize);
      }
    }
  }
}
