package io.runicquanta.bench.codec;

import io.runicquanta.bench.BenchFlags;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link RaptorQBenchmark} and {@link MultiBlockBenchmark} and prints, per cell, MB/s of
 * object (10^6 bytes), the ratio to the XOR of the same bytes measured in the same run, and the
 * ratio to the best native figure of BASELINES.md (Rust raptorq 2.0.1 and C nanorq, one core).
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar
 * io.runicquanta.bench.codec.CodecSpeedReport [warmupIterations measurementIterations]} (default 2
 * and 3, one fork, 1 s iterations).
 */
public final class CodecSpeedReport {
  private CodecSpeedReport() {}

  /** Best native encode/decode MB/s per cell "MiB/T" from BASELINES.md (max of Rust and nanorq). */
  private static final Map<String, double[]> NATIVE = new HashMap<>();

  static {
    NATIVE.put("1/1280", new double[] {444, 455});
    NATIVE.put("16/1280", new double[] {155, 141});
    NATIVE.put("64/1280", new double[] {85, 80});
    NATIVE.put("1/65532", new double[] {474, 454});
    NATIVE.put("16/65532", new double[] {422, 460});
    NATIVE.put("64/65532", new double[] {237, 211});
  }

  public static void main(String[] args) throws RunnerException {
    int wi = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int it = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    List<String> jvm = new ArrayList<>(List.of(BenchFlags.JVM_ARGS));
    // A pre-touched heap: otherwise each plan's arrays land on heap pages never touched before
    // (until the whole committed heap has been used once) and first-touch faults, at 16-40 us a
    // page here, cost more than building the plan (see RaptorQBenchmark).
    jvm.add("-Xms3g");
    jvm.add("-Xmx3g");
    jvm.add("-XX:+AlwaysPreTouch");
    Options opt =
        new OptionsBuilder()
            .include(RaptorQBenchmark.class.getSimpleName())
            .include(MultiBlockBenchmark.class.getSimpleName())
            .forks(1)
            .warmupIterations(wi)
            .measurementIterations(it)
            .warmupTime(TimeValue.seconds(1))
            .measurementTime(TimeValue.seconds(1))
            .jvmArgsAppend(jvm.toArray(new String[0]))
            .build();
    Collection<RunResult> results = new Runner(opt).run();
    Map<String, Double> ms = new HashMap<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark();
      name = name.substring(name.lastIndexOf('.') + 1);
      StringBuilder key = new StringBuilder(name);
      for (String p : r.getParams().getParamsKeys()) {
        key.append(' ').append(p).append('=').append(r.getParams().getParam(p));
      }
      ms.put(key.toString(), r.getPrimaryResult().getScore());
    }
    StringBuilder sb = new StringBuilder();
    sb.append("\n## Codec speed (one thread, one source block; MB/s of object; x XOR = ratio to the"
        + " XOR of the same bytes in this run; x native = ratio to the best of Rust raptorq/nanorq"
        + " in BASELINES.md)\n\n");
    sb.append("| object / T | XOR MB/s | encode | x XOR | x native | decode | x XOR | x native |"
        + " encode, cached plan | decode, cached plan |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
    for (int t : new int[] {1280, 65532}) {
      for (int mib : new int[] {1, 16, 64}) {
        String p = " objectMiB=" + mib + " symbolSize=" + t;
        Double xor = ms.get("xorBaseline" + p);
        Double enc = ms.get("encode" + p);
        Double dec = ms.get("decode" + p);
        Double encC = ms.get("encodeCachedPlan" + p);
        Double decC = ms.get("decodeCachedPlan" + p);
        if (xor == null || enc == null || dec == null) {
          continue;
        }
        double bytes = (double) mib * (1 << 20);
        double xorMbs = mbs(bytes, xor);
        double[] nat = NATIVE.get(mib + "/" + t);
        sb.append(String.format(Locale.ROOT,
            "| %d MiB / %d | %.0f | %.0f | %.3f | %.2f | %.0f | %.3f | %.2f | %.0f | %.0f |%n",
            mib, t, xorMbs, mbs(bytes, enc), mbs(bytes, enc) / xorMbs, mbs(bytes, enc) / nat[0],
            mbs(bytes, dec), mbs(bytes, dec) / xorMbs, mbs(bytes, dec) / nat[1],
            encC == null ? 0 : mbs(bytes, encC), decC == null ? 0 : mbs(bytes, decC)));
      }
    }
    Double one = ms.get("encodeFourBlocks symbolSize=1280 threads=1");
    Double two = ms.get("encodeFourBlocks symbolSize=1280 threads=2");
    if (one != null && two != null) {
      double bytes = 4.0 * 16 * (1 << 20);
      sb.append(String.format(Locale.ROOT,
          "%n4 blocks of 16 MiB, T=1280, encode on an executor: 1 thread %.0f MB/s, 2 threads %.0f"
              + " MB/s, speed-up %.2fx%n",
          mbs(bytes, one), mbs(bytes, two), one / two));
    }
    System.out.println(sb);
  }

  private static double mbs(double bytes, double millis) {
    return bytes / 1e6 / (millis / 1000.0);
  }
}
