package io.runicquanta.codec.raptorq;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Encodes one source block (or sub-block): computes its intermediate symbols once, then produces
 * any encoding symbol by ESI (RFC 6330 section 5.3.4). Holds the L intermediate symbols in a buffer
 * from the given allocator until {@link #close()}. {@link #encodeSymbol} is thread safe.
 *
 * <p>Memory: at most (L + 8 + K) x symbolSize bytes from the allocator: the workspace the plan runs in
 * (whose slots end up holding C[0..L-1], laid out in cache-sized tiles, see {@code Tiling}) and a
 * copy of the K source symbols, so that source ESIs are served by a copy. Both are allocated in
 * pieces of at most 16 MiB ({@code Tiling.PIECE_BYTES}; the copy in whole symbols), because larger
 * buffers are freshly mapped on every allocation and their page faults cost more than the coding.
 * Even smaller pieces are often given back to the kernel by malloc when freed; the {@link
 * WorkspacePool} overload of {@code create} takes them from a pool instead, so that a process
 * coding block after block faults its scratch in only once. The plan reads the caller's source
 * directly while it runs. Typical use:
 *
 * <p><b>Small blocks</b> ({@link DenseForm}): when the plan's replay over T-byte symbols costs
 * more than producing the expected repair symbols directly from the source, {@code create} only
 * copies the source and computes the plan's dense form (K octets per intermediate symbol); each
 * repair symbol is then written as a GF(256) combination of the source symbols, and the workspace
 * is neither allocated nor filled. The choice uses the number of repair symbols the caller expects
 * ({@code repairSymbols}; the overloads without it assume ceil(K/10)). If more repair symbols are
 * asked for than that choice paid off for (the dense work done reaches the replay's cost), the
 * encoder allocates the workspace then, runs the plan from its source copy, and serves the rest as
 * usual, so a wrong guess costs at most about twice the replay. Both routes give the same bytes.
 *
 * <pre>{@code
 * EncodingPlan plan = EncodingPlan.forSourceSymbols(k);          // cache per K
 * try (SourceBlockEncoder enc = SourceBlockEncoder.create(alloc, plan, t, src, 0)) {
 *   for (int esi = 0; esi < k + repair; esi++) enc.encodeSymbol(esi, out, (long) esi * t);
 * }
 * }</pre>
 */
public final class SourceBlockEncoder implements AutoCloseable {
  private final EncodingPlan plan;
  private final SystematicParams params;
  private final int symbolSize;
  private final WorkspacePool.Source memory;
  private final java.util.List<ArrowBuf> bufs;
  /** The workspace holding C[0..L-1]; null while the dense route serves repair symbols. */
  private volatile Tiling ws;
  /** Base of the dense form (coefficient rows over the K source symbols), dense route only. */
  private final long dense;
  /** Dense work done so far and the replay cost at which the encoder falls back to the plan. */
  private final java.util.concurrent.atomic.AtomicLong denseSpent =
      new java.util.concurrent.atomic.AtomicLong();
  private final long denseBudget;
  /** Base address of each piece of the source copy, symbolsPerPiece symbols each. */
  private final long[] srcPiece;
  private final int symbolsPerPiece;
  private final int[] colToSlot;
  private volatile boolean closed;
  /** Per thread: 6 ints of tuple, then up to 40 symbol indices. */
  private static final ThreadLocal<int[]> SCRATCH = ThreadLocal.withInitial(() -> new int[46]);
  /** Per thread: operand addresses of one SymbolOps.sum pass. */
  private static final ThreadLocal<long[]> ADDR =
      ThreadLocal.withInitial(() -> new long[SymbolOps.SUM_MAX]);

  private SourceBlockEncoder(
      EncodingPlan plan, int symbolSize, WorkspacePool.Source memory,
      java.util.List<ArrowBuf> bufs, Tiling ws, long dense, long denseBudget, long[] srcPiece,
      int symbolsPerPiece) {
    this.memory = memory;
    this.plan = plan;
    this.params = plan.params();
    this.symbolSize = symbolSize;
    this.bufs = bufs;
    this.ws = ws;
    this.dense = dense;
    this.denseBudget = denseBudget;
    this.srcPiece = srcPiece;
    this.symbolsPerPiece = symbolsPerPiece;
    this.colToSlot = plan.colToSlot();
  }

  private long srcAddress(int esi) {
    int p = esi / symbolsPerPiece;
    return srcPiece[p] + (long) (esi - p * symbolsPerPiece) * symbolSize;
  }

  /**
   * Computes the intermediate symbols.
   *
   * @param allocator pays for L x symbolSize bytes of intermediate symbols (and scratch)
   * @param plan the plan for this block's K
   * @param symbolSize T (or the sub-symbol size), bytes, at least 1
   * @param source K x symbolSize bytes of source symbols at {@code offset}; read during this call
   *     only, the caller keeps ownership
   * @return the encoder; the caller must close it
   * @throws IllegalArgumentException if symbolSize is below 1 or the source range is outside the
   *     buffer
   * @throws org.apache.arrow.memory.OutOfMemoryException if the allocator refuses the buffer
   */
  public static SourceBlockEncoder create(
      BufferAllocator allocator, EncodingPlan plan, int symbolSize, ArrowBuf source, long offset) {
    return create(WorkspacePool.Source.of(allocator), plan, symbolSize, source, offset);
  }

  /**
   * As {@link #create(BufferAllocator, EncodingPlan, int, ArrowBuf, long)}, with the workspace and
   * the source copy taken from a pool (and given back to it on {@link #close()}), so that their
   * pages are reused from block to block instead of faulted afresh.
   *
   * @param pool pays for the same memory as the allocator of the other method; must stay open until
   *     this encoder is closed
   */
  public static SourceBlockEncoder create(
      WorkspacePool pool, EncodingPlan plan, int symbolSize, ArrowBuf source, long offset) {
    return create(WorkspacePool.Source.of(pool), plan, symbolSize, source, offset);
  }

  /**
   * As {@link #create(WorkspacePool, EncodingPlan, int, ArrowBuf, long)}, for a caller that knows
   * how many repair symbols it will ask for: the encoder then picks the cheaper of replaying the
   * plan and producing each repair symbol directly (see the class comment). Any ESI may still be
   * asked for.
   *
   * @param repairSymbols how many repair symbols (ESI K and above) the caller expects to encode,
   *     at least 0
   */
  public static SourceBlockEncoder create(
      WorkspacePool pool, EncodingPlan plan, int symbolSize, ArrowBuf source, long offset,
      int repairSymbols) {
    return create(WorkspacePool.Source.of(pool), plan, symbolSize, source, offset, repairSymbols,
        DenseForm.DEFAULT_MODE);
  }

  private static SourceBlockEncoder create(
      WorkspacePool.Source allocator, EncodingPlan plan, int symbolSize, ArrowBuf source,
      long offset) {
    int k = plan == null ? 1 : plan.sourceSymbols();
    return create(allocator, plan, symbolSize, source, offset, (k + 9) / 10,
        DenseForm.DEFAULT_MODE);
  }

  /** With the route forced or chosen ({@link DenseForm#AUTO}, ON, OFF); package-private for tests. */
  static SourceBlockEncoder create(
      WorkspacePool.Source allocator, EncodingPlan plan, int symbolSize, ArrowBuf source,
      long offset, int repairSymbols, int mode) {
    if (plan == null) {
      throw new IllegalArgumentException("plan is null");
    }
    if (symbolSize < 1) {
      throw new IllegalArgumentException("symbolSize = " + symbolSize + ", expected >= 1");
    }
    if (repairSymbols < 0) {
      throw new IllegalArgumentException("repairSymbols = " + repairSymbols + ", expected >= 0");
    }
    int k = plan.sourceSymbols();
    long need = (long) k * symbolSize;
    checkRange("source", source, offset, need);
    java.util.List<ArrowBuf> bufs = new java.util.ArrayList<>(4);
    boolean ok = false;
    try {
      int spp = (int) Math.max(1, Math.min(k, Tiling.PIECE_BYTES / symbolSize));
      long[] srcPiece = new long[(k + spp - 1) / spp];
      // The dense route reads the source copy for repair symbols and, if it falls back, runs the
      // plan from it: that needs the copy in one piece.
      boolean useDense = false;
      long budget = 0;
      if (mode != DenseForm.OFF && srcPiece.length == 1) {
        SymbolProgram prog = plan.program();
        // the replay route also XORs about 5 intermediate symbols per repair symbol
        useDense = mode == DenseForm.ON
            || DenseForm.cheaper(prog, k, repairSymbols, symbolSize, 10L * repairSymbols);
        budget = mode == DenseForm.ON || !useDense ? Long.MAX_VALUE : DenseForm.replayCost(prog);
      }
      Tiling ws = useDense ? null : Tiling.allocate(allocator, plan.slots(), symbolSize, bufs);
      long from = source.memoryAddress() + offset;
      for (int p = 0; p < srcPiece.length; p++) {
        int n = Math.min(spp, k - p * spp);
        ArrowBuf b = allocator.take((long) n * symbolSize);
        bufs.add(b);
        srcPiece[p] = b.memoryAddress();
        SymbolOps.copy(from + (long) p * spp * symbolSize, srcPiece[p], (long) n * symbolSize);
      }
      long dense = useDense ? DenseForm.compute(allocator, plan.program(), k, bufs) : 0;
      SourceBlockEncoder enc = new SourceBlockEncoder(
          plan, symbolSize, allocator, bufs, ws, dense, budget, srcPiece, spp);
      if (!useDense) {
        SymbolOps.run(plan.program(), ws, from, symbolSize);
      }
      ok = true;
      return enc;
    } finally {
      if (!ok) {
        closeAll(allocator, bufs);
      }
    }
  }

  /** Whether repair symbols are currently produced by the dense route (tests). */
  boolean denseRoute() {
    return ws == null;
  }

  /**
   * Leaves the dense route: allocates the workspace and runs the plan from the source copy (one
   * piece, see create). Idempotent and safe against concurrent callers.
   */
  private synchronized Tiling materialize() {
    Tiling t = ws;
    if (t != null) {
      return t;
    }
    if (closed) {
      throw new IllegalStateException("closed");
    }
    java.util.List<ArrowBuf> mine = new java.util.ArrayList<>(4);
    boolean ok = false;
    try {
      t = Tiling.allocate(memory, plan.slots(), symbolSize, mine);
      SymbolOps.run(plan.program(), t, srcPiece[0], symbolSize);
      ok = true;
    } finally {
      if (!ok) {
        closeAll(memory, mine);
      }
    }
    synchronized (bufs) {
      bufs.addAll(mine);
    }
    ws = t;
    return t;
  }

  private static void closeAll(WorkspacePool.Source memory, java.util.List<ArrowBuf> bufs) {
    for (ArrowBuf b : bufs) {
      memory.give(b);
    }
  }

  static void checkRange(String name, ArrowBuf b, long offset, long len) {
    if (b == null) {
      throw new IllegalArgumentException(name + " buffer is null");
    }
    if (offset < 0 || offset + len > b.capacity()) {
      throw new IllegalArgumentException(
          name + " range [" + offset + ", " + (offset + len) + ") is outside the buffer of capacity "
              + b.capacity());
    }
  }

  /** The plan this encoder replays. */
  public EncodingPlan plan() {
    return plan;
  }

  /** Symbol size in bytes. */
  public int symbolSize() {
    return symbolSize;
  }

  /**
   * Writes the encoding symbol with this ESI (source symbols for ESI below K, repair symbols from
   * ESI K to 2^24-1) to {@code dst} at {@code dstOffset}, symbolSize bytes. May be called from
   * several threads at once, but not concurrently with {@link #close()}.
   *
   * @throws IllegalArgumentException if the ESI is outside 0..2^24-1 or the destination range is
   *     outside {@code dst}
   * @throws IllegalStateException if the encoder is closed
   */
  public void encodeSymbol(int esi, ArrowBuf dst, long dstOffset) {
    if (esi < 0 || esi > 0xFFFFFF) {
      throw new IllegalArgumentException("ESI = " + esi + ", expected 0 to 16777215");
    }
    checkRange("destination", dst, dstOffset, symbolSize);
    encodeSymbolTo(esi, dst.memoryAddress() + dstOffset);
  }

  /**
   * As {@link #encodeSymbol} but to a raw address the caller guarantees holds symbolSize writable
   * bytes (no bounds check on the address).
   */
  public void encodeSymbolTo(int esi, long address) {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    if (esi < 0 || esi > 0xFFFFFF) {
      throw new IllegalArgumentException("ESI = " + esi + ", expected 0 to 16777215");
    }
    int k = params.k();
    if (esi < k) {
      SymbolOps.copy(srcAddress(esi), address, symbolSize);
      return;
    }
    long isi = (long) esi + params.kPrime() - k;
    int[] idx = SCRATCH.get();
    int m = Generators.encIndices(params, isi, idx, idx, 6);
    Tiling t = ws;
    if (t == null) {
      DenseForm.Combiner c = DenseForm.combiner();
      c.reset();
      byte[] co = c.coefs(k);
      for (int q = 0; q < m; q++) {
        DenseForm.xorRow(dense + (long) colToSlot[idx[6 + q]] * k, co, k);
      }
      long base = srcPiece[0];
      for (int j = 0; j < k; j++) {
        c.add(base + (long) j * symbolSize, co[j]);
      }
      if (denseSpent.addAndGet(c.cost()) <= denseBudget) {
        c.writeTo(address, symbolSize);
        return;
      }
      t = materialize();
    }
    writeCombination(t, idx, m, address);
  }

  private void writeCombination(Tiling t, int[] idx, int m, long address) {
    long[] x = ADDR.get();
    for (int q = 0; q < m; q++) {
      idx[6 + q] = colToSlot[idx[6 + q]]; // columns to workspace slots, in place
    }
    for (int i = 0; i < t.tiles; i++) {
      int w = t.width(i);
      SymbolOps.sumSlots(address + t.offset(i), 0, t.tileBase(i), w, idx, 6, 6 + m, x, w);
    }
  }

  /** Frees the intermediate symbols (or gives them back to the pool); idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    closeAll(memory, bufs);
  }
}
