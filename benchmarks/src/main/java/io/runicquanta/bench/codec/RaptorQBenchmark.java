package io.runicquanta.bench.codec;

import io.runicquanta.bench.BenchFlags;
import io.runicquanta.codec.raptorq.DecodingPlan;
import io.runicquanta.codec.raptorq.EncodingPlan;
import io.runicquanta.codec.raptorq.SourceBlockDecoder;
import io.runicquanta.codec.raptorq.SourceBlockEncoder;
import io.runicquanta.codec.raptorq.WorkspacePool;
import java.lang.reflect.Field;
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
import sun.misc.Unsafe;

/**
 * One source block of {@code objectMiB} MiB at symbol size T, single thread (the cells of
 * BASELINES.md). Times are per operation; {@link CodecSpeedReport} turns them into MB/s of object
 * and ratios to {@link #xorBaseline}, which XORs the object's bytes into another buffer with the
 * same {@code Unsafe} word loop the codec uses.
 *
 * <ul>
 *   <li>{@link #encode}: build the plan from scratch, compute the intermediate symbols, produce the
 *       K source symbols and ceil(K/10) repair symbols.
 *   <li>{@link #decode}: the first K/10 source symbols are lost; the decoder gets the other source
 *       symbols plus K/10 + 2 repair symbols; it builds the plan from scratch and decodes.
 *   <li>{@link #encodeCachedPlan}, {@link #decodeCachedPlan}: the same with the plan built once.
 * </ul>
 *
 * <p>Workspaces come from a {@link WorkspacePool} (memory reused from one invocation to the next, as
 * a node or command would; no plan or matrix is kept). Forks pre-touch their heap
 * ({@code -Xms3g -XX:+AlwaysPreTouch}): a long-running node has touched its heap long ago, while a
 * fresh benchmark JVM would otherwise charge first-touch page faults (16-40 us per 4 KiB page on
 * the development VM) to every plan it builds; for K = 820 that took allocating the 116 KB plan
 * from 0.014 ms to 1.2-2.5 ms, more than the whole elimination.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch",
    "--add-opens=java.base/java.nio=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class RaptorQBenchmark {
  @Param({"1", "16", "64"})
  public int objectMiB;

  @Param({"1280", "65532"})
  public int symbolSize;

  private BufferAllocator alloc;
  private WorkspacePool pool;
  private ArrowBuf source;
  private ArrowBuf out;
  private ArrowBuf received;
  private ArrowBuf decoded;
  private ArrowBuf xorDst;
  private int k;
  private int repair;
  private int[] esis;
  private EncodingPlan cachedEncodingPlan;
  private DecodingPlan cachedDecodingPlan;

  static final Unsafe U;

  static {
    try {
      Field f = Unsafe.class.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      U = (Unsafe) f.get(null);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    alloc = new RootAllocator();
    pool = new WorkspacePool(alloc);
    long bytes = (long) objectMiB << 20;
    k = (int) ((bytes + symbolSize - 1) / symbolSize);
    repair = (k + 9) / 10;
    int lost = k / 10;
    source = alloc.buffer((long) k * symbolSize);
    long x = 0x9E3779B97F4A7C15L;
    for (long i = 0; i + 8 <= source.capacity(); i += 8) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      source.setLong(i, x);
    }
    out = alloc.buffer((long) (k + repair) * symbolSize);
    xorDst = alloc.buffer(bytes);
    xorDst.setZero(0, bytes);
    decoded = alloc.buffer((long) k * symbolSize);
    esis = new int[k + 2];
    for (int q = 0; q < k + 2; q++) {
      esis[q] = lost + q; // source lost..K-1, then repair K..K+lost+1
    }
    received = alloc.buffer((long) esis.length * symbolSize);
    cachedEncodingPlan = EncodingPlan.forSourceSymbols(k);
    try (SourceBlockEncoder enc =
        SourceBlockEncoder.create(alloc, cachedEncodingPlan, symbolSize, source, 0)) {
      for (int q = 0; q < esis.length; q++) {
        enc.encodeSymbol(esis[q], received, (long) q * symbolSize);
      }
    }
    cachedDecodingPlan = DecodingPlan.build(k, esis);
    SourceBlockDecoder.decode(alloc, cachedDecodingPlan, symbolSize, received, 0, decoded, 0);
    for (long i = 0; i + 8 <= (long) k * symbolSize; i += 4096) {
      if (decoded.getLong(i) != source.getLong(i)) {
        throw new IllegalStateException("decode check failed at byte " + i);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    pool.close();
    source.close();
    out.close();
    xorDst.close();
    decoded.close();
    received.close();
    alloc.close();
  }

  long encodeWith(EncodingPlan plan) {
    try (SourceBlockEncoder enc = SourceBlockEncoder.create(pool, plan, symbolSize, source, 0)) {
      for (int e = 0; e < k + repair; e++) {
        enc.encodeSymbol(e, out, (long) e * symbolSize);
      }
    }
    return out.getLong(0);
  }

  @Benchmark
  public long encode() {
    return encodeWith(EncodingPlan.forSourceSymbols(k));
  }

  @Benchmark
  public long encodeCachedPlan() {
    return encodeWith(cachedEncodingPlan);
  }

  @Benchmark
  public long decode() {
    return decodeWith(DecodingPlan.build(k, esis));
  }

  long decodeWith(DecodingPlan plan) {
    SourceBlockDecoder.decode(pool, plan, symbolSize, received, 0, decoded, 0);
    return decoded.getLong(0);
  }

  @Benchmark
  public long decodeCachedPlan() {
    SourceBlockDecoder.decode(pool, cachedDecodingPlan, symbolSize, received, 0, decoded, 0);
    return decoded.getLong(0);
  }

  /** XOR of the object's bytes into another buffer (8-byte words through Unsafe). */
  @Benchmark
  public long xorBaseline() {
    long a = source.memoryAddress();
    long b = xorDst.memoryAddress();
    long n = (long) objectMiB << 20;
    for (long i = 0; i < n; i += 8) {
      U.putLong(b + i, U.getLong(b + i) ^ U.getLong(a + i));
    }
    return U.getLong(b);
  }

  /**
   * Addresses modulo 4096 of the cell's buffers and of the pool's idle buffers in hand-out order
   * (diagnostics for the 4 KiB aliasing study, arrow-codec README).
   */
  public String placement() {
    return "source " + source.memoryAddress() % 4096 + " out " + out.memoryAddress() % 4096
        + " received " + received.memoryAddress() % 4096 + " decoded "
        + decoded.memoryAddress() % 4096 + " xorDst " + xorDst.memoryAddress() % 4096
        + " pool idle " + io.runicquanta.codec.raptorq.PoolPeek.idle(pool);
  }

  /** JVM flags for forks (also applied by {@link CodecSpeedReport}). */
  static String[] jvmArgs() {
    return BenchFlags.JVM_ARGS;
  }
}
