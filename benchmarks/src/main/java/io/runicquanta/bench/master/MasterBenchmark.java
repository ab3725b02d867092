package io.runicquanta.bench.master;

import io.runicquanta.bench.BenchFlags;
import io.runicquanta.master.LocalGrid;
import io.runicquanta.master.MasterCaches;
import io.runicquanta.master.MasterClient;
import io.runicquanta.master.MasterNodeMain;
import io.runicquanta.master.ObjectRecord;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.PutEndRequest;
import io.runicquanta.master.proto.PutStartRequest;
import io.runicquanta.master.proto.PutStartResponse;
import io.runicquanta.master.proto.Redundancy;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.Ignition;

/**
 * End-to-end benchmark of the master: three Ignite server nodes in separate JVMs (one of them hosts
 * the master), this JVM a client node.
 *
 * <ul>
 *   <li>pairs/s: PutStart + PutEnd of a fresh key (4 KiB object, m = 1, T = 1024, 3 shards);
 *   <li>GetReplicaList latency p50 and p99 over the objects written;
 *   <li>baseline: a bare Ignite loop on the same objects cache, each iteration a transactional put
 *       (implicit transaction) of a record of the same size and a get of it, from this client node.
 * </ul>
 *
 * First every path is warmed up together (16 threads, pairs, reads and baseline, 3x the warm-up
 * seconds). Then, from 1 and from 16 threads, pairs and baseline are measured in alternating 2 s
 * slices (after a warm-up of each), and GetReplicaList latency after them. The alternation makes the
 * ratio fair: measured one after the other, the first cell (1-thread pairs, right after the
 * warm-up) ran on a grid several times slower than two minutes later (commit median 2.0 against
 * 0.45 ms in the master's log, same calls), and the baseline cell, run later, did not pay that.
 * After the cells come the single-call medians, the 1-thread pair loop again with a baseline beside
 * it and a staggered pair loop (PutStart of key k, PutEnd of key k-1: never a key just written),
 * the batch forms (BatchPutStart of {@code -Drq.bench.batch} keys, default 32, then BatchPutEnd of
 * them, from 1 and 16 threads, against a transaction putting and getting as many records),
 * and the same put timed on the primary of the master's partition as an implicit and as an
 * explicit optimistic transaction (once per key, and twice per key back to back). Besides the
 * table it prints, for the pair cells, PutStart's and PutEnd's latency (mean, p50, p99, max, calls
 * above 5, 10 and 50 ms) and the load average. The baseline's records copy one real
 * layout, so the grid is for this run only (the server JVMs are killed at the end). Prints a table with the ratio of
 * pairs/s to baseline iterations/s. Run: {@code java <BenchFlags.JVM_ARGS> -cp benchmarks.jar
 * io.runicquanta.bench.master.MasterBenchmark [warmupSeconds measureSeconds]}. The system property
 * {@code rq.bench.serverHeap} sets the server JVMs' -Xmx (default 3g), {@code rq.bench.regionMiB}
 * their data region (default 4096 MiB). {@code rq.bench.serverJvmArgs} adds JVM arguments (space separated) to the server JVMs, e.g. to
 * record JFR or to log the master's group-commit statistics
 * ({@code -Dorg.slf4j.simpleLogger.log.io.runicquanta=info}). {@code -Drq.bench.only=grl}
 * runs only the GetReplicaList cells, {@code -Drq.bench.only=batch} only the batch cells, each with
 * the CPU time per call (or key) of every JVM and its busiest thread groups; {@code
 * -Drq.bench.only=pairs} only the single-call pair cells, with each JVM's CPU per pair and per
 * baseline iteration and where the master runs against its partition's primary.
 */
public final class MasterBenchmark {
  static final int DISCO = 48560;
  static final int COMM = 48660;

  private MasterBenchmark() {}

  /**
   * @param args optional warm-up and measurement seconds (default 3 and 8)
   * @throws Exception on failure to start the grid
   */
  public static void main(String[] args) throws Exception {
    int warm = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int measure = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    List<Process> procs = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        procs.add(launch("bench-srv-" + i));
      }
      try (Ignite client = Ignition.start(LocalGrid.config("bench-client", DISCO, COMM, 10, 64, true));
          MasterClient c = MasterClient.connect(client, Duration.ofSeconds(120))) {
        // Bookkeeping only (no memory behind them). The benchmark never removes, and every pair takes
        // 3 x 4 KiB: 4 GiB segments filled up (RESOURCE_EXHAUSTED in the batch cells) once an idle
        // run reached ~1 million pairs, so they are 64 GiB.
        for (int i = 0; i < 3; i++) {
          c.mountSegment("bseg" + i, "bnode" + i, "", 64L << 30, "tcp", "127.0.0.1:1", new byte[0]);
        }
        IgniteCache<String, ObjectRecord> objects = MasterCaches.objects(client, 1);
        byte[] sample = c.call(s -> s.putStart(putReq("sample"))).getReplica().toByteArray();
        List<String> rows = new ArrayList<>();
        List<String> tails = new ArrayList<>();
        AtomicLong seq = new AtomicLong();
        // Warm-up of every path in every JVM (master, primary, backup, this client) before any cell
        // is measured (see the class comment).
        String load0 = loadAverage();
        rate(16, 0, warm * 3, () -> {
          String key = "w/" + seq.incrementAndGet();
          pair(c, key, null, null);
          c.call(s -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build()));
          objects.put("w" + key, new ObjectRecord(ObjectRecord.COMPLETE, 4096, 0, 3, sample, null));
          objects.get("w" + key);
        }, null);
        long firstKey = seq.get() + 1;
        if ("batch".equals(System.getProperty("rq.bench.only"))) {
          batchOnly(c, client, objects, sample, procs, seq, warm, measure, load0);
          for (Process p : procs) {
            p.destroyForcibly();
          }
          System.exit(0);
        }
        if ("pairs".equals(System.getProperty("rq.bench.only"))) {
          pairsOnly(c, client, objects, sample, procs, seq, warm, measure, load0);
          for (Process p : procs) {
            p.destroyForcibly();
          }
          System.exit(0);
        }
        if ("grl".equals(System.getProperty("rq.bench.only"))) {
          grlOnly(c, procs, seq, firstKey, warm, measure, load0);
          for (Process p : procs) {
            p.destroyForcibly();
          }
          System.exit(0);
        }
        // Every cell removes what it created (untimed, through the master for its objects and
        // straight from the cache for the baseline's records), so the master's memory and the data
        // region hold one cell's objects at most. Before, nothing was removed: at 9,000 pairs/s (an
        // idle run on a faster VM, 2026-12-01 10:37) the master's JVM filled its 1 GiB heap and
        // spent the later cells in back-to-back full collections (Ignite's pause detector: 203
        // pauses of ~0.5 s), which took the batch and end-of-run cells down to a few pairs/s.
        List<String> cleanups = new ArrayList<>();
        List<String> heapLines = new ArrayList<>();
        cleanups.add(cleanup(c, objects, "warm-up", keys("w/", 1, firstKey), keys("ww/", 1, firstKey)));
        for (int threads : new int[] {1, 16}) {
          long cellFirst = seq.get() + 1;
          long heap0 = masterHeapAfterGc(client);
          Recorder starts = new Recorder();
          Recorder ends = new Recorder();
          Op pairOp = () -> pair(c, "p/" + seq.incrementAndGet(), starts, ends);
          AtomicLong bseq = new AtomicLong();
          Op baseOp = () -> {
            String key = "b/" + threads + "/" + bseq.incrementAndGet();
            objects.put(key, new ObjectRecord(ObjectRecord.COMPLETE, 4096, 0, 3, sample, null));
            if (objects.get(key) == null) {
              throw new IllegalStateException("baseline read lost " + key);
            }
          };
          // pairs and baseline alternate in 2 s slices, so that both see the same state of the
          // grid (see the class comment: a cell run right after the warm-up ran several times
          // slower than the same loop two minutes later)
          rate(threads, warm, 0, pairOp, null);
          rate(threads, warm, 0, baseOp, null);
          int rounds = Math.max(1, measure / 2);
          double pairs = 0;
          double base = 0;
          for (int r = 0; r < rounds; r++) {
            pairs += rate(threads, 0, 2, pairOp, r > 0 ? null : () -> {
              starts.on = true;
              ends.on = true;
            }) / rounds;
            base += rate(threads, 0, 2, baseOp, null) / rounds;
          }
          tails.add(starts.summary(threads + " threads, PutStart"));
          tails.add(ends.summary(threads + " threads, PutEnd"));
          long written = seq.get();
          long[] lat = latencies(threads, warm, measure, () -> {
            long k = cellFirst + (long) (Math.random() * (written - cellFirst)); // this cell's objects
            c.call(s -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey("p/" + k).build()));
          });
          rows.add(String.format(Locale.ROOT,
              "| %2d | %,10.0f | %,10.0f | %5.2f | %7.3f | %7.3f |",
              threads, pairs, base, pairs / base, lat[0] / 1e6, lat[1] / 1e6));
          // printed at once as well (the full table comes at the end): a later part that fails
          // must not take the measured cells with it
          System.out.println("cell: " + rows.get(rows.size() - 1));
          long heapWith = masterHeapAfterGc(client);
          long n = seq.get() + 1 - cellFirst;
          heapLines.add(String.format(Locale.ROOT, "master JVM heap after GC before the %d-thread cell"
              + " %,.1f MiB, with its %,d objects (and read leases) %,.1f MiB: %,.0f bytes per object (one"
              + " block of 3 shards)", threads, heap0 / 1048576.0, n, heapWith / 1048576.0,
              (heapWith - heap0) / (double) Math.max(1, n)));
          cleanups.add(cleanup(c, objects, threads + "-thread pair cell",
              keys("p/", cellFirst, seq.get() + 1), keys("b/" + threads + "/", 1, bseq.get() + 1)));
        }
        // batch forms: BatchPutStart of B fresh keys then BatchPutEnd of them (one group-commit
        // change set each), against a baseline transaction that puts and gets B records (putAll +
        // getAll in one explicit transaction); pairs/s counts keys, alternating 2 s slices as above
        int batch = Integer.getInteger("rq.bench.batch", 32);
        List<String> batchRows = new ArrayList<>();
        for (int threads : new int[] {1, 16}) {
          long cellFirst = seq.get();
          Op bpair = () -> batchPair(c, "bb/" + seq.getAndAdd(batch), batch);
          AtomicLong xseq = new AtomicLong();
          Op bbase = batchBaseline(client, objects, sample, batch, "x/" + threads + "/", xseq);
          rate(threads, warm, 0, bpair, null);
          rate(threads, warm, 0, bbase, null);
          int rounds = Math.max(1, measure / 2);
          double bp = 0;
          double bb = 0;
          for (int r = 0; r < rounds; r++) {
            bp += rate(threads, 0, 2, bpair, null) * batch / rounds;
            bb += rate(threads, 0, 2, bbase, null) * batch / rounds;
          }
          batchRows.add(String.format(Locale.ROOT, "| %2d | %d | %,10.0f | %,10.0f | %5.2f |",
              threads, batch, bp, bb, bp / bb));
          // at once too, as the pair cells: a 20 10 run (2026-12-01 11:06) lost its batch table when
          // a server JVM ran out of its 1 GiB heap in the primary-put part at the end
          System.out.println("batch cell: " + batchRows.get(batchRows.size() - 1));
          List<String> made = new ArrayList<>();
          for (long b0 = cellFirst; b0 < seq.get(); b0 += batch) {
            for (int j = 0; j < batch; j++) {
              made.add("bb/" + b0 + "/" + j);
            }
          }
          cleanups.add(cleanup(c, objects, threads + "-thread batch cell", made,
              keys("x/" + threads + "/", 0, xseq.get())));
        }
        // single-thread latency breakdown: a bare gRPC round trip (ListSegments touches no cache),
        // PutStart alone, PutEnd alone, and the baseline's cache put alone
        AtomicLong bk = new AtomicLong();
        long[] grpc = latencies(1, 2, 5, () -> c.call(s -> s.listSegments(
            io.runicquanta.master.proto.ListSegmentsRequest.getDefaultInstance())));
        java.util.concurrent.ConcurrentLinkedQueue<String> started = new java.util.concurrent.ConcurrentLinkedQueue<>();
        long[] ps = latencies(1, 2, 5, () -> {
          String key = "q/" + bk.incrementAndGet();
          c.call(s -> s.putStart(putReq(key)));
          started.add(key);
        });
        long[] pe = latencies(1, 0, 3, () -> {
          String key = started.poll();
          if (key == null) {
            return;
          }
          PutEndRequest.Builder e = PutEndRequest.newBuilder().setKey(key);
          for (int j = 0; j < 3; j++) {
            e.addShardCrc32C(j);
          }
          c.call(s -> s.putEnd(e.build()));
        });
        long[] put = latencies(1, 2, 5, () -> objects.put("bp/" + bk.incrementAndGet(),
            new ObjectRecord(ObjectRecord.COMPLETE, 4096, 0, 3, sample, null)));
        // the 1-thread pair loop again, now that every isolated loop has run (same JIT state and
        // load as those), and a staggered variant that never writes the key of the previous call:
        // PutStart(k) then PutEnd(k-1); which of them stays slower than the isolated calls tells
        // whether the pair loop's cost is the time since start or writing a key just written
        Recorder againS = new Recorder();
        Recorder againE = new Recorder();
        double again = rate(1, 2, 5, () -> pair(c, "a/" + seq.incrementAndGet(), againS, againE), () -> {
          againS.on = true;
          againE.on = true;
        });
        Recorder stagS = new Recorder();
        Recorder stagE = new Recorder();
        String[] prev = {null};
        double stag = rate(1, 2, 5, () -> {
          String key = "s/" + seq.incrementAndGet();
          long t0 = System.nanoTime();
          c.call(s -> s.putStart(putReq(key)));
          long t1 = System.nanoTime();
          if (prev[0] != null) {
            PutEndRequest.Builder e = PutEndRequest.newBuilder().setKey(prev[0]);
            for (int j = 0; j < 3; j++) {
              e.addShardCrc32C(j);
            }
            c.call(s -> s.putEnd(e.build()));
          }
          long t2 = System.nanoTime();
          prev[0] = key;
          stagS.add(t1 - t0);
          stagE.add(t2 - t1);
        }, () -> {
          stagS.on = true;
          stagE.on = true;
        });
        AtomicLong eseq = new AtomicLong();
        double baseEnd = rate(1, 2, 5, () -> {
          String key = "e/" + eseq.incrementAndGet();
          objects.put(key, new ObjectRecord(ObjectRecord.COMPLETE, 4096, 0, 3, sample, null));
          if (objects.get(key) == null) {
            throw new IllegalStateException("baseline read lost " + key);
          }
        }, null);
        tails.add(String.format(Locale.ROOT, "1 thread at the end: %.0f pairs/s, baseline %.0f/s (ratio"
            + " %.2f); staggered (PutStart k, PutEnd k-1) %.0f pairs/s", again, baseEnd, again / baseEnd, stag));
        tails.add(againS.summary("1 thread at the end, PutStart"));
        tails.add(againE.summary("1 thread at the end, PutEnd"));
        tails.add(stagS.summary("1 thread staggered, PutStart"));
        tails.add(stagE.summary("1 thread staggered, PutEnd"));
        // the same put made on the primary of the partition (where the master now runs), as an
        // implicit transaction and as the master's batch transaction (explicit, optimistic)
        long[] onPrimary = client.compute().affinityCall(
            MasterCaches.OBJECTS, "rq-master", new PrimaryPuts(sample, 3));
        System.out.println();
        System.out.printf(Locale.ROOT, "1-thread p50 ms: gRPC round trip %.3f, PutStart %.3f, PutEnd %.3f,"
            + " baseline cache put %.3f%n", grpc[0] / 1e6, ps[0] / 1e6, pe[0] / 1e6, put[0] / 1e6);
        System.out.printf(Locale.ROOT, "on the partition's primary, p50 / mean ms: implicit tx put %.3f / %.3f,"
            + " explicit optimistic tx put %.3f / %.3f, the same with each key put twice in a row"
            + " %.3f / %.3f%n", onPrimary[0] / 1e6, onPrimary[1] / 1e6,
            onPrimary[2] / 1e6, onPrimary[3] / 1e6, onPrimary[4] / 1e6, onPrimary[5] / 1e6);
        System.out.println();
        System.out.println("| threads | PutStart+PutEnd pairs/s | baseline Ignite tx put+get/s | ratio |"
            + " GetReplicaList p50 ms | p99 ms |");
        System.out.println("|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.out.println();
        System.out.println("| threads | keys per batch call | BatchPutStart+BatchPutEnd pairs/s |"
            + " baseline tx putAll + getAll, records/s | ratio |");
        System.out.println("|---|---|---|---|---|");
        batchRows.forEach(System.out::println);
        System.out.println();
        System.out.println("Pair cells, per call (ms):");
        tails.forEach(System.out::println);
        System.out.println("Removed after each cell (untimed): " + String.join("; ", cleanups));
        heapLines.forEach(System.out::println);
        System.out.println(placement(client));
        System.out.println("load average at start: " + load0 + "; at end: " + loadAverage());
        System.out.println("(3 server JVMs + this client JVM on " + Runtime.getRuntime().availableProcessors()
            + " cores; warm-up " + warm + " s, measure " + measure + " s per cell)");
      }
    } finally {
      for (Process p : procs) {
        p.destroyForcibly();
      }
      for (Process p : procs) {
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
    System.exit(0);
  }

  /**
   * Runs on the primary node of the master's partition: puts of a record like the baseline's, for
   * {@code seconds} each as an implicit transaction and as an explicit optimistic one (the form of
   * the master's group commit). Returns p50 and mean of each, in nanoseconds.
   */
  static final class PrimaryPuts implements org.apache.ignite.lang.IgniteCallable<long[]> {
    private static final long serialVersionUID = 1L;
    private final byte[] sample;
    private final int seconds;
    @org.apache.ignite.resources.IgniteInstanceResource private transient Ignite ignite;

    PrimaryPuts(byte[] sample, int seconds) {
      this.sample = sample;
      this.seconds = seconds;
    }

    @Override
    public long[] call() {
      IgniteCache<String, ObjectRecord> objects = ignite.cache(MasterCaches.OBJECTS);
      long[] implicit = loop(i -> objects.put("pp/i/" + i, rec()));
      long[] explicit = loop(i -> {
        try (org.apache.ignite.transactions.Transaction tx = ignite.transactions().txStart(
            org.apache.ignite.transactions.TransactionConcurrency.OPTIMISTIC,
            org.apache.ignite.transactions.TransactionIsolation.READ_COMMITTED, 15_000, 1)) {
          objects.putAll(java.util.Map.of("pp/e/" + i, rec()));
          tx.commit();
        }
      });
      // each key written by two transactions back to back, as PutStart then PutEnd do
      long[] twice = loop(i -> {
        try (org.apache.ignite.transactions.Transaction tx = ignite.transactions().txStart(
            org.apache.ignite.transactions.TransactionConcurrency.OPTIMISTIC,
            org.apache.ignite.transactions.TransactionIsolation.READ_COMMITTED, 15_000, 1)) {
          objects.putAll(java.util.Map.of("pp/t/" + (i / 2), rec()));
          tx.commit();
        }
      });
      return new long[] {implicit[0], implicit[1], explicit[0], explicit[1], twice[0], twice[1]};
    }

    private ObjectRecord rec() {
      return new ObjectRecord(ObjectRecord.COMPLETE, 4096, 0, 3, sample, null);
    }

    private long[] loop(java.util.function.IntConsumer op) {
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      long[] d = new long[1 << 20];
      int n = 0;
      while (System.nanoTime() < end && n < d.length) {
        long t0 = System.nanoTime();
        op.accept(n);
        d[n] = System.nanoTime() - t0;
        n++;
      }
      long sum = 0;
      for (int i = 0; i < n; i++) {
        sum += d[i];
      }
      long[] sorted = Arrays.copyOf(d, n);
      Arrays.sort(sorted);
      return new long[] {sorted[n / 2], sum / Math.max(1, n)};
    }
  }

  /** PutStart then PutEnd of {@code key}; records each call's latency if recorders are given. */
  static void pair(MasterClient c, String key, Recorder starts, Recorder ends) {
    long t0 = System.nanoTime();
    PutStartResponse r = c.call(s -> s.putStart(putReq(key)));
    long t1 = System.nanoTime();
    PutEndRequest.Builder e = PutEndRequest.newBuilder().setKey(key);
    int shards = r.getReplica().getBlocksList().stream().mapToInt(b -> b.getShardsCount()).sum();
    for (int j = 0; j < shards; j++) {
      e.addShardCrc32C(j);
    }
    c.call(s -> s.putEnd(e.build()));
    long t2 = System.nanoTime();
    if (starts != null) {
      starts.add(t1 - t0);
      ends.add(t2 - t1);
    }
  }

  /**
   * The batch baseline: one explicit optimistic transaction putting {@code batch} fresh records
   * ({@code putAll}), then a {@code getAll} of them.
   */
  static Op batchBaseline(Ignite client, IgniteCache<String, ObjectRecord> objects, byte[] sample, int batch,
      String prefix, AtomicLong xseq) {
    return () -> {
      java.util.Map<String, ObjectRecord> m = new java.util.TreeMap<>();
      long k0 = xseq.getAndAdd(batch);
      for (int j = 0; j < batch; j++) {
        m.put(prefix + (k0 + j), new ObjectRecord(ObjectRecord.COMPLETE, 4096, 0, 3, sample, null));
      }
      try (org.apache.ignite.transactions.Transaction tx = client.transactions().txStart(
          org.apache.ignite.transactions.TransactionConcurrency.OPTIMISTIC,
          org.apache.ignite.transactions.TransactionIsolation.SERIALIZABLE)) {
        objects.putAll(m);
        tx.commit();
      }
      if (objects.getAll(m.keySet()).size() != batch) {
        throw new IllegalStateException("baseline batch read lost records");
      }
    };
  }

  /**
   * The batch cells alone ({@code -Drq.bench.only=batch}), {@code rq.bench.grlRounds} rounds (default
   * 3) at 1 and 16 threads: BatchPutStart + BatchPutEnd of {@code rq.bench.batch} keys (default 32)
   * and the putAll + getAll baseline, each with the CPU time of every JVM per key (per pair or per
   * record) and the busiest thread groups: where a batch pair spends CPU, against the baseline.
   */
  static void batchOnly(MasterClient c, Ignite client, IgniteCache<String, ObjectRecord> objects,
      byte[] sample, List<Process> procs, AtomicLong seq, int warm, int measure, String load0)
      throws Exception {
    int batch = Integer.getInteger("rq.bench.batch", 32);
    int rounds = Integer.getInteger("rq.bench.grlRounds", 3);
    long[] pids = new long[procs.size() + 1];
    for (int i = 0; i < procs.size(); i++) {
      pids[i] = procs.get(i).pid();
    }
    pids[procs.size()] = ProcessHandle.current().pid();
    System.out.println("keys per batch call: " + batch);
    System.out.println("| round | threads | cell | keys/s | CPU us/key srv0 srv1 srv2 client | box busy % | load |");
    for (int r = 0; r < rounds; r++) {
      for (int threads : new int[] {1, 16}) {
        Op bpair = () -> batchPair(c, "bo/" + seq.getAndAdd(batch), batch);
        Op bbase = batchBaseline(client, objects, sample, batch, "xo/" + r + "/" + threads + "/",
            new AtomicLong());
        for (String cell : new String[] {"pairs", "baseline"}) {
          Op op = cell.equals("pairs") ? bpair : bbase;
          rate(threads, Math.max(1, warm / 2), 0, op, null);
          long[] cpu0 = cpuTicks(pids);
          long[] box0 = boxTicks();
          java.util.Map<String, Long> th0 = threadTicks(pids);
          long t0 = System.nanoTime();
          double perSec = rate(threads, 0, measure, op, null);
          double secs = (System.nanoTime() - t0) / 1e9;
          long[] cpu1 = cpuTicks(pids);
          long[] box1 = boxTicks();
          java.util.Map<String, Long> th1 = threadTicks(pids);
          long keys = Math.max(1, Math.round(perSec * measure * batch));
          StringBuilder cpu = new StringBuilder();
          for (int i = 0; i < pids.length; i++) {
            cpu.append(String.format(Locale.ROOT, " %.1f", (cpu1[i] - cpu0[i]) * 10_000.0 / keys));
          }
          double busy = 100.0 * (box1[0] - box0[0]) / Math.max(1, box1[1] - box0[1]);
          System.out.printf(Locale.ROOT, "| %d | %2d | %s | %,.0f |%s | %.0f | %s |%n",
              r, threads, cell, perSec * batch, cpu, busy, loadAverage());
          System.out.println("  CPU us per key by JVM and thread group (" + cell + ", " + threads
              + " threads, round " + r + ", " + String.format(Locale.ROOT, "%.1f", secs) + " s): "
              + threadBreakdown(th0, th1, keys, procs.size()));
        }
      }
    }
    System.out.println("load average at start: " + load0 + "; at end: " + loadAverage());
  }

  /**
   * Where the master runs against its caches' partition: "master on srvI; primary srvJ, backups
   * [...]" (server JVMs by instance name). A master on the primary commits with one cross-process
   * hop less than one on another node (see {@code MasterCaches}).
   */
  static String placement(Ignite client) {
    io.runicquanta.master.MasterAddress a = MasterCaches.address(client).get(MasterCaches.ADDRESS_KEY);
    java.util.function.Function<org.apache.ignite.cluster.ClusterNode, String> name =
        n -> n == null ? "none" : String.valueOf((Object) n.attribute("org.apache.ignite.ignite.name"));
    List<org.apache.ignite.cluster.ClusterNode> owners = new ArrayList<>(
        client.affinity(MasterCaches.OBJECTS).mapPartitionToPrimaryAndBackups(0));
    String master = a == null ? "none" : name.apply(client.cluster().node(java.util.UUID.fromString(a.nodeId())));
    List<String> backups = new ArrayList<>();
    for (int i = 1; i < owners.size(); i++) {
      backups.add(name.apply(owners.get(i)));
    }
    return "master on " + master + "; primary " + (owners.isEmpty() ? "none" : name.apply(owners.get(0)))
        + ", backups " + backups;
  }

  /**
   * The single-call pair cells alone ({@code -Drq.bench.only=pairs}), {@code rq.bench.grlRounds}
   * rounds (default 3) at 1 and 16 threads: PutStart + PutEnd pairs against the baseline (implicit
   * transactional put + get), alternating 2 s slices, with each JVM's CPU per pair (per baseline
   * iteration) and where the master runs against its partition's primary. Each cell's objects and
   * records are removed after it (untimed).
   */
  static void pairsOnly(MasterClient c, Ignite client, IgniteCache<String, ObjectRecord> objects,
      byte[] sample, List<Process> procs, AtomicLong seq, int warm, int measure, String load0)
      throws Exception {
    int rounds = Integer.getInteger("rq.bench.grlRounds", 3);
    long[] pids = new long[procs.size() + 1];
    for (int i = 0; i < procs.size(); i++) {
      pids[i] = procs.get(i).pid();
    }
    pids[procs.size()] = ProcessHandle.current().pid();
    System.out.println(placement(client));
    System.out.println("| round | threads | pairs/s | baseline/s | ratio | CPU us/pair srv0 srv1 srv2 client"
        + " | CPU us/baseline srv0 srv1 srv2 client | PutStart p50 / p99 ms | PutEnd p50 / p99 ms | load |");
    for (int r = 0; r < rounds; r++) {
      for (int threads : new int[] {1, 16}) {
        long cellFirst = seq.get() + 1;
        AtomicLong bseq = new AtomicLong();
        String bprefix = "bo/" + r + "/" + threads + "/";
        Recorder starts = new Recorder();
        Recorder ends = new Recorder();
        Op pairOp = () -> pair(c, "po/" + seq.incrementAndGet(), starts, ends);
        Op baseOp = () -> {
          String key = bprefix + bseq.incrementAndGet();
          objects.put(key, new ObjectRecord(ObjectRecord.COMPLETE, 4096, 0, 3, sample, null));
          if (objects.get(key) == null) {
            throw new IllegalStateException("baseline read lost " + key);
          }
        };
        rate(threads, Math.max(1, warm / 2), 0, pairOp, null);
        rate(threads, Math.max(1, warm / 2), 0, baseOp, null);
        starts.on = true;
        ends.on = true;
        int slices = Math.max(1, measure / 2);
        double pairs = 0;
        double base = 0;
        long[] cpuP = new long[pids.length];
        long[] cpuB = new long[pids.length];
        for (int i = 0; i < slices; i++) {
          long[] a0 = cpuTicks(pids);
          pairs += rate(threads, 0, 2, pairOp, null) / slices;
          long[] a1 = cpuTicks(pids);
          base += rate(threads, 0, 2, baseOp, null) / slices;
          long[] a2 = cpuTicks(pids);
          for (int j = 0; j < pids.length; j++) {
            cpuP[j] += a1[j] - a0[j];
            cpuB[j] += a2[j] - a1[j];
          }
        }
        StringBuilder cp = new StringBuilder();
        StringBuilder cb = new StringBuilder();
        for (int j = 0; j < pids.length; j++) {
          cp.append(String.format(Locale.ROOT, " %.0f", cpuP[j] * 10_000.0 / Math.max(1, pairs * slices * 2)));
          cb.append(String.format(Locale.ROOT, " %.0f", cpuB[j] * 10_000.0 / Math.max(1, base * slices * 2)));
        }
        System.out.printf(Locale.ROOT, "| %d | %2d | %,.0f | %,.0f | %.2f |%s |%s | %s | %s | %s |%n",
            r, threads, pairs, base, pairs / base, cp, cb, starts.p50p99(), ends.p50p99(), loadAverage());
        cleanup(c, objects, "pairs", keys("po/", cellFirst, seq.get() + 1), keys(bprefix, 1, bseq.get() + 1));
      }
    }
    System.out.println(placement(client));
    System.out.println("load average at start: " + load0 + "; at end: " + loadAverage());
  }

  /** BatchPutStart of {@code n} keys {@code prefix0..n-1}, then BatchPutEnd of all of them. */
  static void batchPair(MasterClient c, String prefix, int n) {
    io.runicquanta.master.proto.BatchPutStartRequest.Builder b =
        io.runicquanta.master.proto.BatchPutStartRequest.newBuilder();
    for (int j = 0; j < n; j++) {
      b.addItems(putReq(prefix + "/" + j));
    }
    io.runicquanta.master.proto.BatchPutStartResponse r = c.call(s -> s.batchPutStart(b.build()));
    io.runicquanta.master.proto.BatchPutEndRequest.Builder e =
        io.runicquanta.master.proto.BatchPutEndRequest.newBuilder();
    for (io.runicquanta.master.proto.BatchPutStartResponse.Item it : r.getItemsList()) {
      if (it.getStatus().getCode() != 0) {
        throw new IllegalStateException("BatchPutStart item " + it.getKey() + ": " + it.getStatus().getMessage());
      }
      PutEndRequest.Builder one = PutEndRequest.newBuilder().setKey(it.getKey());
      int shards = it.getReplica().getBlocksList().stream().mapToInt(bl -> bl.getShardsCount()).sum();
      for (int j = 0; j < shards; j++) {
        one.addShardCrc32C(j);
      }
      e.addItems(one);
    }
    io.runicquanta.master.proto.BatchPutEndResponse er = c.call(s -> s.batchPutEnd(e.build()));
    for (io.runicquanta.master.proto.BatchPutEndResponse.Item it : er.getItemsList()) {
      if (it.getStatus().getCode() != 0) {
        throw new IllegalStateException("BatchPutEnd item " + it.getKey() + ": " + it.getStatus().getMessage());
      }
    }
  }

  /** Latencies of one kind of call while {@link #on}; thread safe. */
  static final class Recorder {
    volatile boolean on;
    private long[] v = new long[1 << 16];
    private int n;

    synchronized void add(long nanos) {
      if (!on) {
        return;
      }
      if (n == v.length) {
        v = Arrays.copyOf(v, n * 2);
      }
      v[n++] = nanos;
    }

    /** @return "p50 / p99" in ms */
    synchronized String p50p99() {
      long[] d = Arrays.copyOf(v, n);
      Arrays.sort(d);
      if (d.length == 0) {
        return "-";
      }
      return String.format(Locale.ROOT, "%.3f / %.3f", d[d.length / 2] / 1e6,
          d[(int) Math.min(d.length - 1, d.length * 0.99)] / 1e6);
    }

    /** @return count, mean, p50, p99, max and the calls above 5, 10 and 50 ms */
    synchronized String summary(String what) {
      long[] d = Arrays.copyOf(v, n);
      Arrays.sort(d);
      if (d.length == 0) {
        return what + ": no calls";
      }
      double sum = 0;
      int over5 = 0;
      int over10 = 0;
      int over50 = 0;
      for (long x : d) {
        sum += x;
        over5 += x > 5_000_000 ? 1 : 0;
        over10 += x > 10_000_000 ? 1 : 0;
        over50 += x > 50_000_000 ? 1 : 0;
      }
      return String.format(Locale.ROOT,
          "%s: %d calls, mean %.3f, p50 %.3f, p99 %.3f, max %.1f; above 5 ms %d, 10 ms %d, 50 ms %d",
          what, d.length, sum / d.length / 1e6, d[d.length / 2] / 1e6,
          d[(int) Math.min(d.length - 1, d.length * 0.99)] / 1e6, d[d.length - 1] / 1e6, over5, over10, over50);
    }
  }

  /**
   * The GetReplicaList cells alone ({@code -Drq.bench.only=grl}), {@code rq.bench.grlRounds} times
   * (default 3) at 1 and 16 threads, with the CPU time the four JVMs and the whole box spent over
   * each cell: CPU per call, and whether the box was saturated.
   */
  static void grlOnly(MasterClient c, List<Process> procs, AtomicLong seq, long firstKey0, int warm,
      int measure, String load0) throws Exception {
    long firstKey = seq.get() + 1;
    rate(16, 0, Math.max(2, warm), () -> pair(c, "p/" + seq.incrementAndGet(), null, null), null);
    long written = seq.get();
    int rounds = Integer.getInteger("rq.bench.grlRounds", 3);
    long[] pids = new long[procs.size() + 1];
    for (int i = 0; i < procs.size(); i++) {
      pids[i] = procs.get(i).pid();
    }
    pids[procs.size()] = ProcessHandle.current().pid();
    System.out.println("client channels: " + c.channels() + "; objects: " + (written - firstKey + 1));
    System.out.println("| round | threads | calls/s | p50 ms | p99 ms | p99.9 ms | max ms |"
        + " CPU us/call srv0 srv1 srv2 client | box busy % | load |");
    for (int r = 0; r < rounds; r++) {
      for (int threads : new int[] {1, 16}) {
        // warm-up of this thread count, then the measured cell with CPU counters around it
        latencies(threads, 0, 1, () -> grl(c, firstKey, written));
        long[] cpu0 = cpuTicks(pids);
        long[] box0 = boxTicks();
        java.util.Map<String, Long> th0 = threadTicks(pids);
        long t0 = System.nanoTime();
        long[] lat = latencies(threads, 0, measure, () -> grl(c, firstKey, written));
        double secs = (System.nanoTime() - t0) / 1e9;
        long[] cpu1 = cpuTicks(pids);
        long[] box1 = boxTicks();
        java.util.Map<String, Long> th1 = threadTicks(pids);
        StringBuilder cpu = new StringBuilder();
        for (int i = 0; i < pids.length; i++) {
          cpu.append(String.format(Locale.ROOT, " %.0f", (cpu1[i] - cpu0[i]) * 10_000.0 / lat[2]));
        }
        double busy = 100.0 * (box1[0] - box0[0]) / Math.max(1, box1[1] - box0[1]);
        System.out.printf(Locale.ROOT, "| %d | %2d | %,.0f | %.3f | %.3f | %.3f | %.1f |%s | %.0f | %s |%n",
            r, threads, lat[2] / secs, lat[0] / 1e6, lat[1] / 1e6, lat[3] / 1e6, lat[4] / 1e6,
            cpu, busy, loadAverage());
        if (threads > 1) {
          System.out.println("  CPU us per call by JVM and thread group (16 threads, round " + r + "): "
              + threadBreakdown(th0, th1, lat[2], procs.size()));
        }
      }
    }
    System.out.println("load average at start: " + load0 + "; at end: " + loadAverage());
  }

  private static void grl(MasterClient c, long firstKey, long written) {
    long k = firstKey + (long) (Math.random() * (written - firstKey));
    c.call(s -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey("p/" + k).build()));
  }

  /** @return utime + stime of each process, in clock ticks (1/100 s) */
  static long[] cpuTicks(long[] pids) throws java.io.IOException {
    long[] t = new long[pids.length];
    for (int i = 0; i < pids.length; i++) {
      String st = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pids[i] + "/stat"));
      String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
      t[i] = Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
    return t;
  }

  /**
   * @return per JVM index and thread group ("i/name", the name from /proc with digits dropped), the
   *     utime + stime of its threads in clock ticks; threads gone between two reads are missed
   */
  static java.util.Map<String, Long> threadTicks(long[] pids) {
    java.util.Map<String, Long> m = new java.util.HashMap<>();
    for (int i = 0; i < pids.length; i++) {
      java.io.File[] tasks = new java.io.File("/proc/" + pids[i] + "/task").listFiles();
      if (tasks == null) {
        continue;
      }
      for (java.io.File t : tasks) {
        try {
          String st = java.nio.file.Files.readString(t.toPath().resolve("stat"));
          String name = st.substring(st.indexOf('(') + 1, st.lastIndexOf(')')).replaceAll("[0-9]+", "N");
          String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
          m.merge(i + "/" + name + "/" + t.getName(), Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
        } catch (java.io.IOException | RuntimeException e) {
          // the thread ended
        }
      }
    }
    return m;
  }

  /** @return the thread groups that used the most CPU between two {@link #threadTicks} reads */
  static String threadBreakdown(java.util.Map<String, Long> a, java.util.Map<String, Long> b, long calls,
      int servers) {
    java.util.Map<String, Long> groups = new java.util.TreeMap<>();
    for (java.util.Map.Entry<String, Long> e : b.entrySet()) {
      String k = e.getKey();
      String g = k.substring(0, k.lastIndexOf('/'));
      groups.merge(g, e.getValue() - a.getOrDefault(k, 0L), Long::sum);
    }
    StringBuilder sb = new StringBuilder();
    groups.entrySet().stream()
        .filter(e -> e.getValue() > 0)
        .sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
        .limit(14)
        .forEach(e -> {
          String g = e.getKey();
          int i = Integer.parseInt(g.substring(0, g.indexOf('/')));
          sb.append(String.format(Locale.ROOT, "%s %s %.0f; ", i == servers ? "client" : "srv" + i,
              g.substring(g.indexOf('/') + 1), e.getValue() * 10_000.0 / calls));
        });
    return sb.toString();
  }

  /** @return {busy, total} jiffies of the whole machine (first line of /proc/stat) */
  static long[] boxTicks() throws java.io.IOException {
    String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0)
        .trim().split("\\s+");
    long total = 0;
    for (int i = 1; i < f.length; i++) {
      total += Long.parseLong(f[i]);
    }
    long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
    return new long[] {total - idle, total};
  }

  static String loadAverage() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  static PutStartRequest putReq(String key) {
    return PutStartRequest.newBuilder()
        .setKey(key)
        .setSize(4096)
        .setRedundancy(Redundancy.newBuilder().setLossTolerance(1).setBlockSize(65_536).setSymbolSize(1024))
        .build();
  }

  static Process launch(String name) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(new File(System.getProperty("java.home"), "bin/java").getPath());
    // The master keeps every object's placement in memory and each measured pair leaves one behind;
    // with a 60 s warm-up (arguments 20 10) a 512 MiB heap ran out in the last part of the run.
    // A cell removes its objects only once it is measured, and on this VM (2026-12-01) the 16-thread
    // batch cell alone puts about 800,000 objects through the master (about 1.4 KB of heap each) and
    // 1.9 million baseline records: with 1 GiB of heap and a 1 GiB data region the master's node
    // collected without end, and then the primary's region ran out (IgniteOutOfMemoryException; the
    // node stopped in the middle of a commit, which Ignite reported as heuristic, and the master that
    // took over refused to start on the half-committed state: "range ... overlaps a live range").
    cmd.add("-Xmx" + System.getProperty("rq.bench.serverHeap", "3g"));
    cmd.addAll(Arrays.asList(BenchFlags.JVM_ARGS));
    String extra = System.getProperty("rq.bench.serverJvmArgs", "").trim();
    if (!extra.isEmpty()) {
      cmd.addAll(Arrays.asList(extra.split("\\s+")));
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(MasterNodeMain.class.getName());
    // Every measured pair leaves an object behind (the benchmark never removes), so the servers'
    // data region must hold a few hundred thousand records: 256 MiB ran out (IgniteOutOfMemory, a
    // server stopped) once the batch cells reached ~15,000 pairs/s.
    cmd.addAll(List.of(name, "" + DISCO, "" + COMM, "10", System.getProperty("rq.bench.regionMiB", "4096"), "10000"));
    Process p = new ProcessBuilder(cmd)
        .redirectError(new File(System.getProperty("java.io.tmpdir"), name + ".log"))
        .start();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CountDownLatch ready = new CountDownLatch(1);
    Thread t = new Thread(() -> {
      try {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.startsWith("READY")) {
            ready.countDown();
          }
        }
      } catch (Exception e) {
        // gone
      }
    });
    t.setDaemon(true);
    t.start();
    if (!ready.await(180, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " did not start; see its log in java.io.tmpdir");
    }
    return p;
  }

  /** Heap in use on the master's node after two full collections (run there by Ignite compute). */
  static long masterHeapAfterGc(Ignite client) {
    io.runicquanta.master.MasterAddress a = MasterCaches.address(client).get(MasterCaches.ADDRESS_KEY);
    return client.compute(client.cluster().forNodeId(java.util.UUID.fromString(a.nodeId())))
        .call(new HeapAfterGc());
  }

  /** Heap used after {@code System.gc()} twice, in the JVM that runs it. */
  static final class HeapAfterGc implements org.apache.ignite.lang.IgniteCallable<Long> {
    private static final long serialVersionUID = 1L;

    @Override
    public Long call() {
      System.gc();
      System.gc();
      return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
  }

  /** Keys {@code prefix + i} for i in [from, to). */
  static List<String> keys(String prefix, long from, long to) {
    List<String> k = new ArrayList<>((int) Math.max(0, Math.min(Integer.MAX_VALUE - 8, to - from)));
    for (long i = from; i < to; i++) {
      k.add(prefix + i);
    }
    return k;
  }

  /**
   * Removes a cell's objects through the master (BatchRemove, 1,000 keys a call; keys it does not
   * know are skipped) and its baseline records from the cache, and says how many and how fast.
   */
  static String cleanup(MasterClient c, IgniteCache<String, ObjectRecord> objects, String cell,
      List<String> masterKeys, List<String> cacheKeys) {
    long t0 = System.nanoTime();
    long removed = 0;
    for (int i = 0; i < masterKeys.size(); i += 1000) {
      io.runicquanta.master.proto.BatchRemoveRequest.Builder b =
          io.runicquanta.master.proto.BatchRemoveRequest.newBuilder();
      b.addAllKeys(masterKeys.subList(i, Math.min(masterKeys.size(), i + 1000)));
      io.runicquanta.master.proto.BatchRemoveResponse r = c.call(s -> s.batchRemove(b.build()));
      for (io.runicquanta.master.proto.BatchRemoveResponse.Item it : r.getItemsList()) {
        if (it.getStatus().getCode() == 0) { // google.rpc.Code OK
          removed++;
        }
      }
    }
    double masterSec = (System.nanoTime() - t0) / 1e9;
    for (int i = 0; i < cacheKeys.size(); i += 1000) {
      // sorted: Ignite warns that an unordered key set in a transactional removeAll may deadlock
      objects.removeAll(new java.util.TreeSet<>(cacheKeys.subList(i, Math.min(cacheKeys.size(), i + 1000))));
    }
    return String.format(Locale.ROOT, "%s %,d objects in %.1f s (%,.0f/s) + %,d baseline records",
        cell, removed, masterSec, removed / Math.max(1e-9, masterSec), cacheKeys.size());
  }

  interface Op {
    void run() throws Exception;
  }

  /** @return operations per second over the measurement window */
  static double rate(int threads, int warm, int measure, Op op, Runnable onCount) throws Exception {
    AtomicBoolean counting = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong count = new AtomicLong();
    List<Thread> ts = new ArrayList<>();
    AtomicLong failures = new AtomicLong();
    java.util.concurrent.atomic.AtomicReference<Exception> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(() -> {
        while (!stop.get()) {
          try {
            op.run();
            if (counting.get()) {
              count.incrementAndGet();
            }
          } catch (Exception e) {
            failures.incrementAndGet();
            firstFailure.compareAndSet(null, e);
          }
        }
      });
      ts.add(t);
      t.start();
    }
    Thread.sleep(warm * 1000L);
    if (onCount != null) {
      onCount.run();
    }
    counting.set(true);
    long t0 = System.nanoTime();
    Thread.sleep(measure * 1000L);
    long n = count.get();
    double secs = (System.nanoTime() - t0) / 1e9;
    stop.set(true);
    for (Thread t : ts) {
      t.join();
    }
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " operations failed; the first: " + firstFailure.get(), firstFailure.get());
    }
    return n / secs;
  }

  /** @return {p50, p99, count, p99.9, max} latency in nanoseconds over the measurement window */
  static long[] latencies(int threads, int warm, int measure, Op op) throws Exception {
    AtomicBoolean counting = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    List<long[]> perThread = new ArrayList<>();
    int[] sizes = new int[threads];
    List<Thread> ts = new ArrayList<>();
    AtomicLong failures = new AtomicLong();
    java.util.concurrent.atomic.AtomicReference<Exception> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
    for (int i = 0; i < threads; i++) {
      long[] buf = new long[4_000_000 / threads];
      perThread.add(buf);
      int idx = i;
      Thread t = new Thread(() -> {
        while (!stop.get()) {
          long t0 = System.nanoTime();
          try {
            op.run();
          } catch (Exception e) {
            failures.incrementAndGet();
            firstFailure.compareAndSet(null, e);
            continue;
          }
          long d = System.nanoTime() - t0;
          if (counting.get() && sizes[idx] < buf.length) {
            buf[sizes[idx]++] = d;
          }
        }
      });
      ts.add(t);
      t.start();
    }
    Thread.sleep(warm * 1000L);
    counting.set(true);
    Thread.sleep(measure * 1000L);
    stop.set(true);
    for (Thread t : ts) {
      t.join();
    }
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " reads failed; the first: " + firstFailure.get(), firstFailure.get());
    }
    int total = 0;
    for (int s : sizes) {
      total += s;
    }
    long[] all = new long[total];
    int at = 0;
    for (int i = 0; i < threads; i++) {
      System.arraycopy(perThread.get(i), 0, all, at, sizes[i]);
      at += sizes[i];
    }
    Arrays.sort(all);
    return new long[] {all[(int) (total * 0.50)], all[(int) Math.min(total - 1, total * 0.99)],
        total, all[(int) Math.min(total - 1, total * 0.999)], all[total - 1]};
  }
}
