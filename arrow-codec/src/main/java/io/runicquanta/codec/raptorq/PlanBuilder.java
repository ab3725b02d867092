package io.runicquanta.codec.raptorq;

import java.util.Arrays;

/**
 * Solves the RaptorQ constraint system A * C = D (RFC 6330 sections 5.3.3.3, 5.3.3.4, 5.4.2) on the
 * matrix alone and records the symbol operations that apply the solution to symbol memory.
 *
 * <h2>Design</h2>
 *
 * <p>Rows of A: S LDPC rows, H HDPC rows (both with a zero right-hand side) and one LT row per
 * known symbol (the received or source symbols plus the K'-K zero padding symbols), each LT row
 * built from Tuple[K', ISI] (5.3.5.3). Columns: the W LT columns ("V" of 5.4.2.2) and the P PI
 * columns, which start inactive exactly as in 5.4.2.2.
 *
 * <ol>
 *   <li><b>Peeling with inactivation</b> (the first phase of 5.4.2.2, matrix only): repeatedly pick
 *       a not yet chosen binary (LDPC or LT) row with the fewest active V columns, r &gt;= 1; its
 *       first active column becomes the row's pivot and the other r-1 are inactivated. HDPC rows are
 *       never chosen. Row degrees live in bucket stacks (a row whose degree falls is pushed onto
 *       its new bucket and its old entry skipped when it comes to the top) and every (row,
 *       column) incidence is visited once, so this step is linear in the number of nonzeros.
 *       Columns still active when no row has an active column left are inactivated. Rows keep
 *       their columns in the order Tuple generates them (not sorted: sorting some 1,700 short
 *       rows took a fifth of a K = 820 plan build), so "first" is the first generated; any
 *       choice yields the same C (A has full rank). The row order changes which rows peel first:
 *       K = 820 inactivates 67 columns instead of 73 with sorted rows, but over 60 K from 10 to
 *       20,000 the totals are level.
 *       Result, with the i chosen rows in order and columns ordered (pivots, inactive):
 *       A = [[Lt, Ut], [F, Ub]] where Lt is i x i unit lower triangular and sparse (the original
 *       rows, no fill-in).
 *   <li><b>Forward substitution</b> on symbols: z = Lt^-1 * d1 in place, then d2 += F * z for the
 *       other binary rows; the HDPC rows get d2_h = sum over pivot columns c of (MT*GAMMA)[h,c] * z_c,
 *       computed with the recurrence G_c = alpha * G_{c-1} + z_c (GAMMA is lower triangular Toeplitz
 *       in alpha, 5.3.3.3) so each column costs one xtime pass and three XORs instead of H
 *       multiply-adds. The exponent is taken mod 255.
 *   <li><b>Schur complement</b> (matrix only): Z = Lt^-1 * Ut as bit rows over the u inactive
 *       columns, then Ub + F * Z for the binary rows (bit rows) and MT * GAMMA restricted the same
 *       way for the HDPC rows (octet rows), with the same recurrence on octet vectors.
 *   <li><b>Dense solve</b> of the u inactive columns (the second phase of 5.4.2.3, done as
 *       Gauss-Jordan): binary rows first with GF(2) pivots (the HDPC rows are reduced alongside
 *       with multiply-adds); the columns no binary row covers are then solved from the HDPC rows in
 *       GF(256). If a column is left without a pivot the matrix is rank deficient and the block is
 *       undecodable.
 *   <li><b>Back substitution</b>: the chosen rows are reloaded with their original right-hand side
 *       (a copy of the input symbol, or zero) and x = Lt^-1 * (d1 + Ut * y) is computed in row
 *       order, touching only the original sparse entries; this replaces phases 3 to 5 of 5.4.2 (no
 *       dense U_upper is ever formed).
 * </ol>
 *
 * <p>While recording, slots known to be zero are tracked so that XOR into a zero slot becomes a
 * copy and reading a zero slot is skipped.
 *
 * <p><b>Fused XORs, recorded as groups.</b> Each recorded operation starts a group, except an XOR
 * d ^= s that can join the group that last wrote d: that group computes d as a sum (an XOR, COPY or
 * XOR_IN, with the XORs that joined it), and no operation since it read d or wrote s, so moving the
 * XOR back into it changes no value any operation reads (XOR is associative and commutative). A
 * group of two or more sources is replayed as one {@code OP_XOR_MANY} (see SymbolOps#sumList).
 * Forward and back substitution emit their rows as runs already; Gauss-Jordan in the dense solve
 * emits column by column (one source, many destinations), and its XORs into a row join across
 * columns until the row is read as a pivot. For K = 820 (with the rows sorted, as they were then)
 * the 14,547 operations became 2,786 (1,386 fused, 9.5 sources on average), which halves the symbol
 * loads and stores of the XORs (40,630 to 19,312 per replay). Then one backward liveness pass over the groups drops every group
 * whose result is never used (for example eliminations into rows the dense solve did not need):
 * the members of a group are live or dead together (nothing between them reads or writes the
 * destination), so this drops exactly the operations that liveness over the single operations
 * drops. The groups are formed while recording (before 2026-12-01 a separate pass fused the
 * operations that liveness had kept, after compacting them): an encoding plan has no dead
 * operation and comes out the same operation for operation; in a decoding plan a dead operation
 * that reads d can keep a later XOR into d out of its group, so it may have a few more operations.
 * The result is identical to the RFC's decoder because C is unique when A has full rank.
 *
 * <p>Loads are deferred: an LT row's slot that should receive its input symbol (at the start, and
 * again when back substitution reloads the chosen rows) is only marked pending; the first XOR into
 * it becomes {@code OP_XOR_IN} (slot = input ^ other, one pass instead of a copy and an XOR), and a
 * plain load is emitted only if the slot is read first. This removes about one symbol pass per
 * received symbol from every program (for K = 820: 1605 loads become 24 loads and 1581 fused XORs).
 *
 * <p>The GF(256) bookkeeping of the HDPC rows (section 5.3.3.3) runs on octet rows packed eight to
 * a {@code long}; a bit row of the binary part is added to an octet row a byte at a time through a
 * 256-entry table that spreads 8 bits into 8 octets (times the coefficient, which cannot carry),
 * not a bit at a time. All temporary arrays proportional to K come from a per-thread {@link
 * Scratch} pool, and the liveness pass compacts the recorded groups in place, so building a
 * plan allocates little more than the plan itself (before, the temporaries were several times the
 * plan and, for K in the thousands, humongous G1 objects allocated and collected per plan).
 *
 * <p><b>Compilation.</b> A plan build calls each step once, so a step whose loops run thousands of
 * times per call is compiled by C2 on stack replacement (OSR), once per hot loop, before the
 * normal compilation, and big methods (with everything they inline) take C2 seconds each; on two
 * cores the single C2 thread then delays the replay kernels. So every step is a chain of small
 * methods: one loop per method, and a loop body that has a loop of its own (a row, a column, an
 * operation) is a method called per iteration, which C2 compiles early as a normal method (it is
 * invoked hundreds of times per plan); rare paths (the last HDPC column, errors) are out of the
 * loops. The recorded program is the same operation for operation.
 *
 * <p>Workspace layout: slots 0..S-1 LDPC rows, S..S+H-1 HDPC rows, S+H..S+H+n-1 the n LT rows (in
 * the order given), S+H+n the scratch symbol G. Not thread safe; one builder per plan.
 */
final class PlanBuilder {
  /** Thrown internally when the matrix is rank deficient. */
  static final class RankDeficientException extends Exception {
    private static final long serialVersionUID = 1L;

    RankDeficientException() {
      super(null, null, false, false);
    }
  }

  /** What the builder produces. */
  static final class Result {
    SymbolProgram program;
    /** Slot holding intermediate symbol C[c], c in 0..L-1. */
    int[] colToSlot;
    /** Number of workspace slots. */
    int slots;
    /** Inactive columns (u) and chosen rows (i) of the elimination, for diagnostics. */
    int inactive;
    int chosen;
  }

  private final SystematicParams p;
  private final int s;
  private final int h;
  private final int w;
  private final int l;
  private final int pp;
  private final int kPrime;

  // Rows: binary rows rb in 0..nb-1 (LDPC rows 0..S-1, then LT rows); CSR of V columns and PI idx.
  private final int nb;
  private final int n;
  private int[] vStart;
  private int[] vCols;
  private int[] piStart;
  private int[] piCols;
  private final int[] inputOfRow; // per LT row: input index or -1 (zero)

  // Emission state.
  private final Scratch pool = Scratch.get();
  private final SymbolProgram.Builder out;
  private final boolean[] zero;
  /** Slots that hold their input symbol logically but not yet in memory (fused load). */
  private final boolean[] pending;
  private final byte[] multi;
  private byte[] coefs = new byte[256];
  private int coefCount;
  private final int gSlot;
  private final int slots;

  /**
   * @param isis ISI of each LT row
   * @param inputIndex per LT row, the input symbol index that holds its value, or -1 for zero
   */
  PlanBuilder(SystematicParams p, int[] isis, int[] inputIndex) {
    this.p = p;
    this.s = p.s();
    this.h = p.h();
    this.w = p.w();
    this.l = p.l();
    this.pp = p.p();
    this.kPrime = p.kPrime();
    this.n = isis.length;
    this.nb = s + n;
    this.inputOfRow = inputIndex;
    this.slots = s + h + n + 1;
    if (slots >= SymbolProgram.MAX_SLOTS) {
      throw new IllegalArgumentException("too many symbols for one plan: " + n);
    }
    this.gSlot = s + h + n;
    this.zero = pool.bools(0, slots);
    this.pending = pool.bools(4, slots);
    this.out = new SymbolProgram.Builder(pool.longsRaw(0, 8 * n + 1024));
    this.lastRead = pool.ints(23, slots);
    this.lastWrite = pool.ints(24, slots);
    this.gCount = pool.intsRaw(25, 8 * n + 1024);
    this.eSlot = pool.intsRaw(28, 24 * n + 1024);
    this.eGroup = pool.intsRaw(29, 24 * n + 1024);
    this.multi = new byte[h];
    buildRows(isis);
  }

  private int slotOfBinaryRow(int rb) {
    return rb < s ? rb : rb - s + s + h;
  }

  // ---------------------------------------------------------------- rows

  private void buildRows(int[] isis) {
    // Every loop over the rows is its own method, and every loop body with a loop of its own is a
    // method called per row (see "Compilation" in the class comment); this method and the two it
    // calls have none, so none is compiled on stack replacement, and each C2 compilation is small.
    // Each LT row's indices (at most 33, section 5.3.5.3), flat: row t at ltCols[t * 34], its
    // count at ltCols[t * 34 + 33].
    int[] ltCols = pool.intsRaw(8, n * 34);
    countRows(isis, ltCols);
    fillRows(ltCols);
    // Cancel duplicate entries (x + x = 0) row by row; compact; only when there are any. The
    // LDPC rows come out sorted, and an LT row's walks (b + j a mod W, b1 + j a1 mod P1, W and P1
    // prime) repeat no index, so normally there are none and the rows stay in generation order,
    // unsorted: the elimination needs no order within a row (see the class comment).
    if (hasDuplicates(vStart, vCols, w, 9)) {
      compact(true);
    }
    if (hasDuplicates(piStart, piCols, pp, 12)) {
      compact(false);
    }
  }

  /** Entry counts per row, the LT rows' indices, and the row starts. */
  private void countRows(int[] isis, int[] ltCols) {
    int[] cnt = pool.ints(0, nb);
    int[] pcnt = pool.ints(1, nb);
    ldpcCounts(cnt);
    ldpcIdentityCounts(cnt, pcnt);
    ltCounts(isis, ltCols, cnt, pcnt);
    vStart = pool.ints(2, nb + 1);
    piStart = pool.ints(3, nb + 1);
    prefixSums(cnt, pcnt);
  }

  /** Writes every row's entries. */
  private void fillRows(int[] ltCols) {
    vCols = pool.intsRaw(4, vStart[nb]);
    piCols = pool.intsRaw(5, piStart[nb]);
    int[] vf = pool.intsRaw(6, nb);
    int[] pf = pool.intsRaw(7, nb);
    System.arraycopy(vStart, 0, vf, 0, nb);
    System.arraycopy(piStart, 0, pf, 0, nb);
    ldpcScatter(vf);
    ldpcIdentity(vf, pf);
    ltScatter(ltCols, vf, pf);
  }

  /** The identity on column B + i and the two PI columns i, i + 1 (mod P) of LDPC row i. */
  private void ldpcIdentityCounts(int[] cnt, int[] pcnt) {
    for (int i = 0; i < s; i++) {
      cnt[i]++;
      pcnt[i] += 2;
    }
  }

  private void ldpcIdentity(int[] vf, int[] pf) {
    int b = p.b();
    for (int i = 0; i < s; i++) {
      vCols[vf[i]++] = b + i;
      piCols[pf[i]++] = i % pp;
      piCols[pf[i]++] = (i + 1) % pp;
    }
  }

  /**
   * Counts the LDPC rows' V entries (5.3.3.3): a = 1 + i / S and i % S kept as counters, (bb + a) %
   * S by subtraction (a is small), no integer division.
   */
  private void ldpcCounts(int[] cnt) {
    int b = p.b();
    for (int i = 0, a = 1, bb0 = 0; i < b; i++) {
      int bb = bb0;
      cnt[bb]++;
      bb = modAdd(bb, a, s);
      cnt[bb]++;
      bb = modAdd(bb, a, s);
      cnt[bb]++;
      if (++bb0 == s) {
        bb0 = 0;
        a++;
      }
    }
  }

  /** Writes the LDPC rows' V entries, in the order of {@link #ldpcCounts}. */
  private void ldpcScatter(int[] vf) {
    int b = p.b();
    for (int i = 0, a = 1, bb0 = 0; i < b; i++) {
      int bb = bb0;
      vCols[vf[bb]++] = i;
      bb = modAdd(bb, a, s);
      vCols[vf[bb]++] = i;
      bb = modAdd(bb, a, s);
      vCols[vf[bb]++] = i;
      if (++bb0 == s) {
        bb0 = 0;
        a++;
      }
    }
  }

  private void ltCounts(int[] isis, int[] ltCols, int[] cnt, int[] pcnt) {
    int[] tup = new int[6];
    for (int t = 0; t < n; t++) {
      ltCount(isis[t], t * 34, s + t, tup, ltCols, cnt, pcnt);
    }
  }

  /** One LT row: its indices (Enc) into ltCols at o, and its V / PI entry counts. */
  private void ltCount(int isi, int o, int rb, int[] tup, int[] ltCols, int[] cnt, int[] pcnt) {
    int m = Generators.encIndices(p, isi & 0xFFFFFFFFL, tup, ltCols, o);
    ltCols[o + 33] = m;
    int nv = 0;
    for (int q = o; q < o + m; q++) {
      if (ltCols[q] < w) {
        nv++;
      }
    }
    cnt[rb] += nv;
    pcnt[rb] += m - nv;
  }

  private void prefixSums(int[] cnt, int[] pcnt) {
    for (int r = 0; r < nb; r++) {
      vStart[r + 1] = vStart[r] + cnt[r];
      piStart[r + 1] = piStart[r] + pcnt[r];
    }
  }

  private void ltScatter(int[] ltCols, int[] vf, int[] pf) {
    for (int t = 0; t < n; t++) {
      ltScatterRow(t * 34, s + t, ltCols, vf, pf);
    }
  }

  private void ltScatterRow(int o, int rb, int[] ltCols, int[] vf, int[] pf) {
    int fv = vf[rb];
    int fp = pf[rb];
    for (int q = o; q < o + ltCols[o + 33]; q++) {
      int c = ltCols[q];
      if (c < w) {
        vCols[fv++] = c;
      } else {
        piCols[fp++] = c - w;
      }
    }
    vf[rb] = fv;
    pf[rb] = fp;
  }

  /**
   * Whether some row lists a column twice (columns below {@code cols}); one pass with a row stamp
   * per column, in a scratch slot that is free until phase 1.
   */
  private boolean hasDuplicates(int[] start, int[] list, int cols, int scratchSlot) {
    int[] stamp = pool.ints(scratchSlot, cols);
    for (int r = 0; r < nb; r++) {
      if (repeats(start[r], start[r + 1], r + 1, list, stamp)) {
        return true;
      }
    }
    return false;
  }

  private static boolean repeats(int from, int to, int mark, int[] list, int[] stamp) {
    for (int q = from; q < to; q++) {
      int c = list[q];
      if (stamp[c] == mark) {
        return true;
      }
      stamp[c] = mark;
    }
    return false;
  }

  /** (x + a) mod m for 0 &lt;= x &lt; m and a &gt;= 0, without a division when a is small. */
  private static int modAdd(int x, int a, int m) {
    int y = x + a;
    while (y >= m) {
      y -= m;
    }
    return y;
  }

  private void compact(boolean v) {
    int[] start = v ? vStart : piStart;
    int[] cols = v ? vCols : piCols;
    int[] ns = pool.intsRaw(v ? 10 : 11, nb + 1);
    int o = 0;
    for (int r = 0; r < nb; r++) {
      int a = start[r];
      int e = start[r + 1];
      // Rows are short (an LT row has at most 33 entries, LDPC rows arrive sorted): an inline
      // insertion sort, without Arrays.sort's per-call dispatch on some 2 * (S + n) tiny ranges.
      for (int x = a + 1; x < e; x++) {
        int key = cols[x];
        int y = x - 1;
        while (y >= a && cols[y] > key) {
          cols[y + 1] = cols[y];
          y--;
        }
        cols[y + 1] = key;
      }
      ns[r] = o;
      int q = a;
      while (q < e) {
        int c = cols[q];
        int run = 1;
        while (q + run < e && cols[q + run] == c) {
          run++;
        }
        if ((run & 1) == 1) {
          cols[o++] = c;
        }
        q += run;
      }
    }
    ns[nb] = o;
    if (v) {
      vStart = ns;
    } else {
      piStart = ns;
    }
  }

  // ---------------------------------------------------------------- emission with zero tracking

  private void emitXor(int src, int dst) {
    materialize(src);
    if (zero[src]) {
      return;
    }
    if (pending[dst]) {
      // dst = input ^ src: the load of dst and this XOR in one pass over the symbol.
      pending[dst] = false;
      startSum(SymbolProgram.OP_XOR_IN, src, dst);
      return;
    }
    if (zero[dst]) {
      zero[dst] = false;
      startSum(SymbolProgram.OP_COPY, src, dst);
    } else if (!joinSum(src, dst)) {
      startSum(SymbolProgram.OP_XOR, src, dst);
    }
  }

  /** OP_FMA, OP_MULCOPY and OP_SCALE operations emitted (before pruning): see SymbolProgram. */
  private int heavyOps;

  private void emitFma(int c, int src, int dst) {
    materialize(src);
    materialize(dst);
    if (c == 0 || zero[src]) {
      return;
    }
    if (c == 1) {
      emitXor(src, dst);
      return;
    }
    int g1;
    if (zero[dst]) {
      g1 = newGroup(SymbolProgram.encode(SymbolProgram.OP_MULCOPY, c, src, dst));
      zero[dst] = false;
    } else {
      g1 = newGroup(SymbolProgram.encode(SymbolProgram.OP_FMA, c, src, dst));
      lastRead[dst] = g1;
    }
    lastRead[src] = g1;
    lastWrite[dst] = -g1;
    heavyOps++;
  }

  /**
   * Emits src times the coefficients in {@link #multi} added into the H HDPC slots: one fused
   * operation (the source is read once for all H products, see SymbolOps.multiFma), or a single
   * multiply-add when only one coefficient is nonzero.
   */
  private void emitMulti(int src) {
    materialize(src);
    if (zero[src]) {
      return;
    }
    int nz = 0;
    int last = -1;
    for (int hh = 0; hh < h; hh++) {
      if (multi[hh] != 0) {
        nz++;
        last = hh;
      }
    }
    if (nz == 0) {
      return;
    }
    if (nz == 1) {
      emitFma(multi[last] & 0xFF, src, s + last);
      return;
    }
    int idx = coefCount++;
    if ((idx + 1) * h > coefs.length) {
      coefs = Arrays.copyOf(coefs, Math.max(coefs.length * 2, (idx + 1) * h));
    }
    System.arraycopy(multi, 0, coefs, idx * h, h);
    int g1 = newGroup(SymbolProgram.encode(SymbolProgram.OP_MULTI_FMA, 0, src, idx));
    lastRead[src] = g1;
    multiWrites(idx * h, g1);
  }

  private void emitScale(int c, int dst) {
    materialize(dst);
    if (c == 1 || zero[dst]) {
      return;
    }
    int g1 = newGroup(SymbolProgram.encode(SymbolProgram.OP_SCALE, c, 0, dst));
    lastRead[dst] = g1;
    lastWrite[dst] = -g1;
    heavyOps++;
  }

  private void emitLoad(int t, int dst) {
    int in = inputOfRow[t];
    pending[dst] = false;
    if (in < 0) {
      zero[dst] = true;
    } else if (in == t && dst == s + h + t) {
      // Deferred: the first XOR into dst reads the input instead (OP_XOR_IN); a LOAD is emitted
      // only if dst is read before any XOR into it.
      pending[dst] = true;
      zero[dst] = false;
    } else {
      set(SymbolProgram.encode(SymbolProgram.OP_LOAD, 0, in, dst), dst);
      zero[dst] = false;
    }
  }

  /** Emits the deferred load of a slot that is about to be read or modified in place. */
  private void materialize(int slot) {
    if (pending[slot]) {
      loadPending(slot); // rare (24 per K = 820 plan): kept out so that callers can inline this
    }
  }

  private void loadPending(int slot) {
    pending[slot] = false;
    set(SymbolProgram.encode(SymbolProgram.OP_LOAD, 0, slot - s - h, slot), slot);
  }

  // ---------------------------------------------------------------- recording, XORs fused

  /*
   * Every operation is recorded as a group (one entry of `out`). A group that computes its
   * destination as a sum (XOR, COPY or XOR_IN) keeps its sources as entries (eSlot, eGroup, in
   * program order), and a later XOR d ^= s joins the sum group that last wrote d when nothing since
   * read d or wrote s (see the class comment, "Fused XORs"). lastRead / lastWrite: group index + 1
   * of the last group that read / wrote each slot, 0 for none; lastWrite negated unless that group
   * is a sum into the slot.
   */
  private final int[] lastRead;
  private final int[] lastWrite;
  /** Per group: the number of sources of a sum group, 0 for any other operation. */
  private int[] gCount;
  private int[] eSlot;
  private int[] eGroup;
  private int ne;

  /** Records op as a new group; returns its index + 1. */
  private int newGroup(long op) {
    int g = out.size();
    if (g == gCount.length) {
      gCount = grow(25, gCount);
    }
    out.add(op);
    gCount[g] = 0;
    return g + 1;
  }

  private int[] grow(int slot, int[] a) {
    int[] b = Arrays.copyOf(a, a.length * 2);
    pool.keepInts(slot, b);
    return b;
  }

  /** Records an operation that sets dst without reading anything in the workspace (LOAD, ZERO). */
  private void set(long op, int dst) {
    lastWrite[dst] = -newGroup(op);
  }

  /** Records dst = src (COPY), dst = input ^ src (XOR_IN) or dst ^= src (XOR) as a sum group. */
  private void startSum(int code, int src, int dst) {
    int g1 = newGroup(SymbolProgram.encode(code, 0, src, dst));
    lastRead[src] = g1;
    if (code == SymbolProgram.OP_XOR) {
      lastRead[dst] = g1;
    }
    if (src != dst) {
      addEntry(src, g1 - 1);
      gCount[g1 - 1] = 1;
      lastWrite[dst] = g1;
    } else {
      lastWrite[dst] = -g1;
    }
  }

  /** dst ^= src joins the sum group that last wrote dst, if it can (see above); whether it did. */
  private boolean joinSum(int src, int dst) {
    int g1 = lastWrite[dst];
    if (g1 > 0 && fuse && src != dst && lastRead[dst] <= g1 && Math.abs(lastWrite[src]) < g1) {
      addEntry(src, g1 - 1);
      gCount[g1 - 1]++;
      if (lastRead[src] < g1) {
        lastRead[src] = g1;
      }
      return true;
    }
    return false;
  }

  private void addEntry(int src, int g) {
    if (ne == eSlot.length) {
      eSlot = grow(28, eSlot);
      eGroup = grow(29, eGroup);
    }
    eSlot[ne] = src;
    eGroup[ne++] = g;
  }

  /** Records an HDPC step (SymbolProgram.OP_HDPC_STEP): G and both accumulators read and set. */
  private void hdpcStep(long op) {
    int g1 = newGroup(op);
    if (SymbolProgram.opcode(op) == SymbolProgram.OP_HDPC_STEP) {
      lastRead[SymbolProgram.src(op)] = g1;
    }
    int a1 = s + (SymbolProgram.coef(op) >>> 4);
    int a2 = s + (SymbolProgram.coef(op) & 15);
    int d = SymbolProgram.dst(op);
    lastRead[d] = g1;
    lastWrite[d] = -g1;
    lastRead[a1] = g1;
    lastWrite[a1] = -g1;
    lastRead[a2] = g1;
    lastWrite[a2] = -g1;
  }

  // ---------------------------------------------------------------- solve

  /**
   * Runs the elimination and records the program.
   *
   * @param outputCols the intermediate symbol columns whose values the caller will read (liveness)
   *     or null for all L
   */
  Result solve(int[] outputCols) throws RankDeficientException {
    initialLoads();
    phase1();
    forward();
    denseRows();
    hdpcRows();
    denseSolve();
    backSubstitution();
    return finish(outputCols);
  }

  private void initialLoads() {
    for (int i = 0; i < s + h; i++) {
      zero[i] = true;
    }
    zero[gSlot] = true;
    for (int t = 0; t < n; t++) {
      emitLoad(t, s + h + t);
    }
  }

  // Elimination state shared by the phases (see the class comment).
  private boolean[] chosenFlag;
  private int[] colPivot;
  private int[] colInactive;
  private int[] chosenRow;
  private int u;
  private int chosen;
  private int words;
  private long[] z;
  private int nUnchosen;
  private int[] denseRow;
  private long[] bits;
  private long[][] hd;
  private int[] inactSlot;
  private int[] colSlot;

  // Phase 1 state: rows of each V column (CSR), row degrees in active columns, degree buckets.
  private int[] colStart;
  private int[] colRows;
  private int[] deg;
  /** Degree buckets as stacks of nodes (row, next node); entries left behind are skipped. */
  private int[] head;
  private int[] nodeRow;
  private int[] nodeNext;
  private int nodes;
  private int[] inactiveColOf;
  private int maxDeg;
  private int minDeg;

  /** Phase 1: peeling with inactivation (matrix only). */
  private void phase1() {
    columnIndex();
    peeling();
  }

  /** The rows of each V column, the row degrees and their buckets. */
  private void columnIndex() {
    int nnz = vStart[nb];
    colStart = pool.ints(12, w + 1);
    countColumns(nnz);
    colRows = pool.intsRaw(13, nnz);
    int[] cf = pool.intsRaw(6, w);
    System.arraycopy(colStart, 0, cf, 0, w);
    scatterColumns(cf);
    deg = pool.intsRaw(14, nb);
    maxDeg = degrees();
    head = pool.intsRaw(15, maxDeg + 1);
    Arrays.fill(head, 0, maxDeg + 1, -1);
    // A row enters a bucket once per degree it takes (degrees only fall): at most nb + nnz nodes.
    nodeRow = pool.intsRaw(16, nb + nnz);
    nodeNext = pool.intsRaw(17, nb + nnz);
    nodes = 0;
    chosenFlag = pool.bools(1, nb);
    fillBuckets();
  }

  private void peeling() {
    // Column state: pivotOrder >= 0, or inactive index in colInactive, else active.
    colPivot = pool.intsRaw(18, w);
    colInactive = pool.intsRaw(19, w);
    Arrays.fill(colPivot, 0, w, -1);
    Arrays.fill(colInactive, 0, w, -1);
    chosenRow = pool.intsRaw(20, Math.min(nb, w));
    inactiveColOf = pool.intsRaw(21, l); // inactive index -> column
    u = pp;
    piInactive();
    chosen = peel();
    inactivateRest();
    words = (u + 63) >>> 6;
    columnSlots();
  }

  /** The P PI columns start inactive (5.4.2.2). */
  private void piInactive() {
    for (int q = 0; q < pp; q++) {
      inactiveColOf[q] = w + q;
    }
  }

  private void countColumns(int nnz) {
    int[] cs = colStart;
    int[] vc = vCols;
    for (int q = 0; q < nnz; q++) {
      cs[vc[q] + 1]++;
    }
    prefixInPlace(cs, w);
  }

  private static void prefixInPlace(int[] a, int m) {
    for (int c = 0; c < m; c++) {
      a[c + 1] += a[c];
    }
  }

  private void scatterColumns(int[] cf) {
    for (int r = 0; r < nb; r++) {
      scatterRowToColumns(r, cf);
    }
  }

  private void scatterRowToColumns(int r, int[] cf) {
    int[] cr = colRows;
    int[] vc = vCols;
    for (int q = vStart[r]; q < vStart[r + 1]; q++) {
      cr[cf[vc[q]]++] = r;
    }
  }

  private int degrees() {
    int md = 0;
    int[] d = deg;
    int[] vs = vStart;
    for (int r = 0; r < nb; r++) {
      int x = vs[r + 1] - vs[r];
      d[r] = x;
      md = Math.max(md, x);
    }
    return md;
  }

  private void fillBuckets() {
    for (int r = nb - 1; r >= 0; r--) {
      int d = deg[r];
      if (d > 0) {
        push(r, d);
      }
    }
  }

  /** Puts row r on top of the bucket of degree d. */
  private void push(int r, int d) {
    int x = nodes++;
    nodeRow[x] = r;
    nodeNext[x] = head[d];
    head[d] = x;
  }

  /** The peeling loop: chooses rows of least degree until none has an active column left. */
  private int peel() {
    int i = 0;
    minDeg = 1;
    for (int r = nextRow(); r >= 0; r = nextRow()) {
      peelRow(r, i++);
    }
    return i;
  }

  /**
   * A row of the least nonzero degree, or -1 when every bucket is empty. A row whose degree fell is
   * not taken out of its old bucket (that took two list unlinks per incidence); such entries, and
   * those of chosen rows, are dropped here when they come to the top. A row is in at most one
   * bucket with its current degree, and a bucket's current rows are in the order they entered it,
   * newest first, as with the doubly linked buckets before: the same rows are chosen.
   */
  private int nextRow() {
    int md = minDeg;
    int[] hd0 = head;
    while (md <= maxDeg) {
      int x = hd0[md];
      if (x < 0) {
        md++;
        continue;
      }
      int r = nodeRow[x];
      if (!chosenFlag[r] && deg[r] == md) {
        minDeg = md;
        return r;
      }
      hd0[md] = nodeNext[x];
    }
    minDeg = md;
    return -1;
  }

  /** Chooses row r as the k-th: its first active column is the pivot, the others inactivated. */
  private void peelRow(int r, int k) {
    head[deg[r]] = nodeNext[head[deg[r]]]; // r is the top of its bucket (nextRow)
    chosenFlag[r] = true;
    chosenRow[k] = r;
    boolean first = true;
    for (int q = vStart[r]; q < vStart[r + 1]; q++) {
      int c = vCols[q];
      if (colPivot[c] >= 0 || colInactive[c] >= 0) {
        continue;
      }
      if (first) {
        colPivot[c] = k;
        first = false;
      } else {
        colInactive[c] = u;
        inactiveColOf[u++] = c;
      }
      leaveColumn(c);
    }
  }

  /** Column c is no longer active: lowers the degree of every unchosen row it is in. */
  private void leaveColumn(int c) {
    int[] cr = colRows;
    boolean[] cf = chosenFlag;
    int[] dg = deg;
    for (int e = colStart[c]; e < colStart[c + 1]; e++) {
      int r2 = cr[e];
      if (cf[r2]) {
        continue;
      }
      int d = dg[r2] - 1;
      dg[r2] = d;
      if (d > 0) {
        push(r2, d);
        if (d < minDeg) {
          minDeg = d;
        }
      }
    }
  }

  /** Columns still active when no row has an active column left are inactivated. */
  private void inactivateRest() {
    for (int c = 0; c < w; c++) {
      if (colPivot[c] < 0 && colInactive[c] < 0) {
        colInactive[c] = u;
        inactiveColOf[u++] = c;
      }
    }
  }

  /**
   * Slot of each V column's pivot row (or -1 while the column is inactive): one lookup instead of
   * colPivot -> chosenRow -> slotOfBinaryRow in the substitution loops.
   */
  private void columnSlots() {
    colSlot = pool.intsRaw(9, w);
    for (int c = 0; c < w; c++) {
      int j = colPivot[c];
      colSlot[c] = j >= 0 ? slotOfBinaryRow(chosenRow[j]) : -1;
    }
  }

  /** Z = Lt^-1 Ut (bit rows); forward substitution z = Lt^-1 d1 on symbols. */
  private void forward() {
    z = pool.longs(1, chosen * words);
    for (int k = 0; k < chosen; k++) {
      forwardRow(k);
    }
  }

  private void forwardRow(int k) {
    int r = chosenRow[k];
    int dstSlot = slotOfBinaryRow(r);
    int zo = k * words;
    long[] zz = z;
    for (int q = piStart[r]; q < piStart[r + 1]; q++) {
      int t = piCols[q];
      zz[zo + (t >>> 6)] ^= 1L << t;
    }
    for (int q = vStart[r]; q < vStart[r + 1]; q++) {
      int c = vCols[q];
      int j = colPivot[c];
      if (j >= 0) {
        if (j == k) {
          continue;
        }
        if (j > k) {
          throw orderBroken(r);
        }
        xorWords(zz, j * words, zz, zo, words);
        emitXor(colSlot[c], dstSlot);
      } else {
        int t = colInactive[c];
        zz[zo + (t >>> 6)] ^= 1L << t;
      }
    }
  }

  private static IllegalStateException orderBroken(int r) {
    return new IllegalStateException("elimination order broken at row " + r);
  }

  /** dst[do..do+n) ^= src[so..so+n). */
  private static void xorWords(long[] src, int so, long[] dst, int dOff, int n) {
    for (int x = 0; x < n; x++) {
      dst[dOff + x] ^= src[so + x];
    }
  }

  /** Schur complement rows of the binary rows that were not chosen; d2 += F z on symbols. */
  private void denseRows() {
    nUnchosen = nb - chosen;
    denseRow = pool.intsRaw(22, nUnchosen); // binary row ids
    bits = pool.longs(2, nUnchosen * words);
    int dn = 0;
    for (int r = 0; r < nb; r++) {
      if (!chosenFlag[r]) {
        denseRowOf(r, dn++);
      }
    }
  }

  private void denseRowOf(int r, int di) {
    denseRow[di] = r;
    int dstSlot = slotOfBinaryRow(r);
    int bo = di * words;
    long[] bb = bits;
    for (int q = piStart[r]; q < piStart[r + 1]; q++) {
      int t = piCols[q];
      bb[bo + (t >>> 6)] ^= 1L << t;
    }
    for (int q = vStart[r]; q < vStart[r + 1]; q++) {
      int c = vCols[q];
      int j = colPivot[c];
      if (j >= 0) {
        xorWords(z, j * words, bb, bo, words);
        emitXor(colSlot[c], dstSlot);
      } else {
        int t = colInactive[c];
        bb[bo + (t >>> 6)] ^= 1L << t;
      }
    }
  }

  /** HDPC rows via G_c = alpha * G_{c-1} + e_c; octet rows packed 8 per long. */
  private void hdpcRows() {
    int uw = (u + 7) >>> 3;
    hd = new long[h][uw];
    long[] g = new long[uw];
    // Symbol side: G and the H accumulators start as explicit zeros so that one fused operation per
    // column (G = alpha * G + z_c; acc[h1] ^= G; acc[h2] ^= G) needs no zero special cases.
    set(SymbolProgram.encode(SymbolProgram.OP_ZERO, 0, 0, gSlot), gSlot);
    zero[gSlot] = false;
    for (int hh = 0; hh < h; hh++) {
      set(SymbolProgram.encode(SymbolProgram.OP_ZERO, 0, 0, s + hh), s + hh);
      zero[s + hh] = false;
    }
    int ks = kPrime + s;
    hdpcColumns(ks - 1, g, uw);
    hdpcLastColumn(ks - 1, g, uw);
    for (int hh = 0; hh < h; hh++) {
      xorByte(hd[hh], pp - h + hh, 1);
    }
  }

  /**
   * G = alpha G + e_c on the octet rows and the symbols; returns the slot of z_c, or -1 when the
   * column is inactive (its unit vector is added to G instead) or its symbol is zero.
   */
  private int hdpcG(int c, long[] g, int uw) {
    for (int x = 0; x < uw; x++) {
      g[x] = Gf256.xtimeWord(g[x]);
    }
    int j = c < w ? colPivot[c] : -1;
    if (j >= 0) {
      spreadXor(z, j * words, words, g, uw, 1);
      int zSlot = colSlot[c];
      materialize(zSlot);
      return zero[zSlot] ? -1 : zSlot;
    }
    int t = c < w ? colInactive[c] : c - w;
    g[t >>> 3] ^= 1L << ((t & 7) << 3);
    return -1;
  }

  private void hdpcColumns(int m, long[] g, int uw) {
    for (int c = 0; c < m; c++) {
      hdpcColumn(c, g, uw);
    }
  }

  /** Column c &lt; K' + S - 1: G is added to the two HDPC rows of Rand (5.3.3.3). */
  private void hdpcColumn(int c, long[] g, int uw) {
    int zSlot = hdpcG(c, g, uw);
    long y = (c + 1) & 0xFFFFFFFFL;
    int h1 = Generators.rand(y, 6, h);
    int h2 = (h1 + Generators.rand(y, 7, h - 1) + 1) % h;
    xorWords2(g, hd[h1], hd[h2], uw);
    hdpcStep(SymbolProgram.encode(
        zSlot < 0 ? SymbolProgram.OP_HDPC_STEP0 : SymbolProgram.OP_HDPC_STEP,
        (h1 << 4) | h2, zSlot < 0 ? 0 : zSlot, gSlot));
  }

  private static void xorWords2(long[] g, long[] r1, long[] r2, int uw) {
    for (int x = 0; x < uw; x++) {
      r1[x] ^= g[x];
      r2[x] ^= g[x];
    }
  }

  /** The last column: alpha G + e_c times alpha^hh added to every HDPC row hh. */
  private void hdpcLastColumn(int c, long[] g, int uw) {
    int zSlot = hdpcG(c, g, uw);
    emitScale(2, gSlot);
    if (zSlot >= 0) {
      emitXor(zSlot, gSlot);
    }
    Arrays.fill(multi, (byte) 0);
    for (int hh = 0; hh < h; hh++) {
      int a = Gf256.alphaPow(hh);
      mulWordsInto(g, a, hd[hh], uw);
      multi[hh] = (byte) a;
    }
    emitMulti(gSlot);
  }

  /** row += a * g, octets packed 8 per long. */
  private static void mulWordsInto(long[] g, int a, long[] row, int uw) {
    for (int x = 0; x < uw; x++) {
      row[x] ^= Gf256.mulWord(g[x], a);
    }
  }

  // Dense solve state.
  private boolean[] pivoted;
  private int[] binPivotOfCol;
  private int[] qCols;
  private int nq;
  private boolean[] hUsed;
  private int[] hOfQ;

  /** Gauss-Jordan over the inactive columns: binary rows, then HDPC rows on what is left. */
  private void denseSolve() throws RankDeficientException {
    inactSlot = new int[u];
    pivoted = pool.bools(3, nUnchosen);
    binPivotOfCol = new int[u];
    Arrays.fill(binPivotOfCol, -1);
    qCols = new int[u];
    nq = 0;
    binaryColumns();
    // HDPC rows over the columns no binary row covers.
    hUsed = new boolean[h];
    hOfQ = new int[nq];
    hdpcPivotColumns();
    // Back-substitute the HDPC-solved columns into the binary pivot rows.
    for (int qi = 0; qi < nq; qi++) {
      hdpcBack(qi);
    }
  }

  private void binaryColumns() {
    for (int col = 0; col < u; col++) {
      binaryColumn(col);
    }
  }

  private void hdpcPivotColumns() throws RankDeficientException {
    for (int qi = 0; qi < nq; qi++) {
      hdpcPivotColumn(qi);
    }
  }

  /** Column col of the dense solve: a binary pivot row eliminates it from all other rows. */
  private void binaryColumn(int col) {
    int piv = binaryPivot(col);
    if (piv < 0) {
      qCols[nq++] = col;
      return;
    }
    pivoted[piv] = true;
    binPivotOfCol[col] = piv;
    int po = piv * words;
    int pSlot = slotOfBinaryRow(denseRow[piv]);
    eliminateBinary(col, piv, po, pSlot);
    Arrays.fill(multi, (byte) 0);
    int uw = (u + 7) >>> 3;
    for (int hh = 0; hh < h; hh++) {
      int beta = getByte(hd[hh], col);
      if (beta != 0) {
        spreadXor(bits, po, words, hd[hh], uw, beta);
        multi[hh] = (byte) beta;
      }
    }
    emitMulti(pSlot);
    inactSlot[col] = pSlot;
  }

  /** The first binary row not yet a pivot with a 1 in column col, or -1. */
  private int binaryPivot(int col) {
    int cw = col >>> 6;
    long cm = 1L << col;
    long[] bb = bits;
    boolean[] pv = pivoted;
    int wd = words;
    for (int di = 0; di < nUnchosen; di++) {
      if (!pv[di] && (bb[di * wd + cw] & cm) != 0) {
        return di;
      }
    }
    return -1;
  }

  /** Adds pivot row piv to every other binary row with a 1 in column col. */
  private void eliminateBinary(int col, int piv, int po, int pSlot) {
    int cw = col >>> 6;
    long cm = 1L << col;
    long[] bb = bits;
    int wd = words;
    for (int di = 0; di < nUnchosen; di++) {
      if (di != piv && (bb[di * wd + cw] & cm) != 0) {
        xorWords(bb, po, bb, di * wd, wd);
        emitXor(pSlot, slotOfBinaryRow(denseRow[di]));
      }
    }
  }

  /** The qi-th column no binary row covers, solved from an HDPC row in GF(256). */
  private void hdpcPivotColumn(int qi) throws RankDeficientException {
    int col = qCols[qi];
    int piv = -1;
    for (int hh = 0; hh < h; hh++) {
      if (!hUsed[hh] && getByte(hd[hh], col) != 0) {
        piv = hh;
        break;
      }
    }
    if (piv < 0) {
      throw new RankDeficientException();
    }
    hUsed[piv] = true;
    hOfQ[qi] = piv;
    int inv = Gf256.inv(getByte(hd[piv], col));
    long[] prow = hd[piv];
    for (int q2 = 0; q2 < nq; q2++) {
      int c2 = qCols[q2];
      setByte(prow, c2, Gf256.mul(getByte(prow, c2), inv));
    }
    emitScale(inv, s + piv);
    Arrays.fill(multi, (byte) 0);
    for (int hh = 0; hh < h; hh++) {
      int gamma = getByte(hd[hh], col);
      if (hh != piv && gamma != 0) {
        hdpcEliminate(hd[hh], prow, gamma);
        multi[hh] = (byte) gamma;
      }
    }
    emitMulti(s + piv);
    inactSlot[col] = s + piv;
  }

  /** row += gamma * prow over the columns no binary row covers. */
  private void hdpcEliminate(long[] row, long[] prow, int gamma) {
    for (int q2 = 0; q2 < nq; q2++) {
      int c2 = qCols[q2];
      xorByte(row, c2, Gf256.mul(gamma, getByte(prow, c2)));
    }
  }

  /** Adds the HDPC-solved qi-th column into the binary pivot rows that still hold it. */
  private void hdpcBack(int qi) {
    int col = qCols[qi];
    int cw = col >>> 6;
    long cm = 1L << col;
    int hSlot = s + hOfQ[qi];
    for (int c2 = 0; c2 < u; c2++) {
      int di = binPivotOfCol[c2];
      if (di >= 0 && (bits[di * words + cw] & cm) != 0) {
        bits[di * words + cw] ^= cm;
        emitXor(hSlot, slotOfBinaryRow(denseRow[di]));
      }
    }
  }

  /** Reload the chosen rows and compute x = Lt^-1 (d1 + Ut y). */
  private void backSubstitution() {
    inactiveColumnSlots();
    for (int k = 0; k < chosen; k++) {
      backRow(chosenRow[k]);
    }
  }

  /** From here on every V column has a slot: its pivot row's, or the dense solve's. */
  private void inactiveColumnSlots() {
    for (int c = 0; c < w; c++) {
      if (colSlot[c] < 0) {
        colSlot[c] = inactSlot[colInactive[c]];
      }
    }
  }

  private void backRow(int r) {
    int dstSlot = slotOfBinaryRow(r);
    if (r < s) {
      zero[dstSlot] = true;
      pending[dstSlot] = false;
    } else {
      emitLoad(r - s, dstSlot);
    }
    for (int q = piStart[r]; q < piStart[r + 1]; q++) {
      emitXor(inactSlot[piCols[q]], dstSlot);
    }
    int[] cs = colSlot;
    for (int q = vStart[r]; q < vStart[r + 1]; q++) {
      int src = cs[vCols[q]];
      if (src != dstSlot) {
        emitXor(src, dstSlot);
      }
    }
  }

  private Result finish(int[] outputCols) {
    int[] colToSlot = new int[l];
    System.arraycopy(colSlot, 0, colToSlot, 0, w);
    System.arraycopy(inactSlot, 0, colToSlot, w, pp);
    boolean[] live = pool.bools(2, slots);
    markLive(live, colToSlot, outputCols);
    materializeLive(live);
    Result res = new Result();
    // The groups were fused while recording; lay out their source lists, drop the dead groups
    // (backward liveness) and compact operations and lists in place: only the program is allocated.
    long[] raw = out.raw();
    int ng = out.size();
    int[] gOff = pool.intsRaw(26, ng);
    int[] gPos = pool.intsRaw(27, ng);
    int nl = listOffsets(gOff, gPos, ng);
    if (nl > SymbolProgram.MAX_SLOTS) { // 26-bit list offset; plans stay far below
      throw new IllegalStateException("fused source lists too long: " + nl);
    }
    int[] lists = pool.intsRaw(22, nl); // free since the dense solve
    listCounts(lists, gOff, ng);
    listSources(lists, gPos);
    pruneGroups(raw, ng, lists, gOff, live);
    int kept = compactGroups(raw, ng, lists, gOff);
    pool.keepLongs(0, raw);
    res.program = new SymbolProgram(Arrays.copyOf(raw, kept), slots, s, h,
        Arrays.copyOf(coefs, coefCount * h), heavyOps, Arrays.copyOf(lists, listEnd));
    res.colToSlot = colToSlot;
    res.slots = slots;
    res.inactive = u;
    res.chosen = chosen;
    return res;
  }

  private void markLive(boolean[] live, int[] colToSlot, int[] outputCols) {
    if (outputCols == null) {
      for (int c = 0; c < l; c++) {
        live[colToSlot[c]] = true;
      }
    } else {
      for (int c : outputCols) {
        live[colToSlot[c]] = true;
      }
    }
  }

  /** Live slots still pending get their load, live slots still zero an explicit zero. */
  private void materializeLive(boolean[] live) {
    for (int sl = 0; sl < slots; sl++) {
      if (live[sl]) {
        materialize(sl);
        if (zero[sl]) {
          set(SymbolProgram.encode(SymbolProgram.OP_ZERO, 0, 0, sl), sl);
        }
      }
    }
  }

  /** Whether XORs are fused into groups (tests compare against the unfused program). */
  boolean fuse = true;

  private int listOffsets(int[] gOff, int[] gPos, int ng) {
    int nl = 0;
    int[] gc = gCount;
    for (int g = 0; g < ng; g++) {
      if (gc[g] >= 2) {
        gOff[g] = nl;
        gPos[g] = nl + 1;
        nl += gc[g] + 1;
      }
    }
    return nl;
  }

  private void listCounts(int[] lists, int[] gOff, int ng) {
    int[] gc = gCount;
    for (int g = 0; g < ng; g++) {
      if (gc[g] >= 2) {
        lists[gOff[g]] = gc[g];
      }
    }
  }

  private void listSources(int[] lists, int[] gPos) {
    int[] gc = gCount;
    int[] eg = eGroup;
    int[] es = eSlot;
    for (int e = 0; e < ne; e++) {
      int g = eg[e];
      if (gc[g] >= 2) {
        lists[gPos[g]++] = es[e];
      }
    }
  }

  /**
   * Backward liveness over the groups: a group whose result is never read is dropped (its entry set
   * to 0). The members of a sum group are live or dead together (nothing between them reads or
   * writes the destination), so this drops the same operations as liveness over the unfused ones.
   */
  private void pruneGroups(long[] ops, int ng, int[] lists, int[] gOff, boolean[] live) {
    int[] gc = gCount;
    for (int g = ng - 1; g >= 0; g--) {
      boolean keep = gc[g] >= 2 ? sumKeeps(ops[g], lists, gOff[g], live) : pruneKeeps(ops[g], live);
      if (!keep) {
        ops[g] = 0; // opcode 0: dropped
      }
    }
  }

  /** Whether a sum group of two or more sources (list at off) is live; if so updates live. */
  private static boolean sumKeeps(long op, int[] lists, int off, boolean[] live) {
    int d = SymbolProgram.dst(op);
    if (!live[d]) {
      return false;
    }
    if (SymbolProgram.opcode(op) != SymbolProgram.OP_XOR) {
      live[d] = false; // COPY or XOR_IN head: the group sets d (no source is d)
    }
    int end = off + lists[off];
    for (int q = off + 1; q <= end; q++) {
      live[lists[q]] = true;
    }
    return true;
  }

  /** Where {@link #compactGroups} ended the source lists. */
  private int listEnd;

  /**
   * Compacts the live groups to the front of ops, a sum group of two or more sources rewritten as
   * one OP_XOR_MANY, and their source lists to the front of lists (both in place); returns the
   * number of operations kept.
   */
  private int compactGroups(long[] ops, int ng, int[] lists, int[] gOff) {
    int o = 0;
    int lo = 0;
    int[] gc = gCount;
    for (int g = 0; g < ng; g++) {
      long op = ops[g];
      if (op == 0) {
        continue;
      }
      if (gc[g] < 2) {
        ops[o++] = op; // a lone operation stays as it was
        continue;
      }
      int off = gOff[g];
      int len = lists[off] + 1;
      if (lo != off) {
        System.arraycopy(lists, off, lists, lo, len);
      }
      ops[o++] = xorMany(op, lo);
      lo += len;
    }
    listEnd = lo;
    return o;
  }

  private static long xorMany(long op, int off) {
    int code = SymbolProgram.opcode(op);
    int mode = code == SymbolProgram.OP_XOR ? SymbolProgram.SUM_ACC
        : code == SymbolProgram.OP_COPY ? SymbolProgram.SUM_SET : SymbolProgram.SUM_IN;
    return SymbolProgram.encode(SymbolProgram.OP_XOR_MANY, mode, off, SymbolProgram.dst(op));
  }

  /** The HDPC slots a fused multiply-add (coefficients at co) reads and writes. */
  private void multiWrites(int co, int g1) {
    for (int hh = 0; hh < h; hh++) {
      if (coefs[co + hh] != 0) {
        lastRead[s + hh] = g1;
        lastWrite[s + hh] = -g1;
      }
    }
  }

  /** Whether op (going backwards) is live; if so marks what it reads live and what it sets dead. */
  private boolean pruneKeeps(long op, boolean[] live) {
    int dst = SymbolProgram.dst(op);
    int code = SymbolProgram.opcode(op);
    switch (code) {
      case SymbolProgram.OP_MULTI_FMA:
        return pruneMulti(op, live);
      case SymbolProgram.OP_HDPC_STEP:
      case SymbolProgram.OP_HDPC_STEP0: {
        int a1 = s + (SymbolProgram.coef(op) >>> 4);
        int a2 = s + (SymbolProgram.coef(op) & 15);
        if (!live[dst] && !live[a1] && !live[a2]) {
          return false;
        }
        live[dst] = true;
        live[a1] = true;
        live[a2] = true;
        if (code == SymbolProgram.OP_HDPC_STEP) {
          live[SymbolProgram.src(op)] = true;
        }
        return true;
      }
      default:
        break;
    }
    if (!live[dst]) {
      return false;
    }
    switch (code) {
      case SymbolProgram.OP_XOR:
      case SymbolProgram.OP_FMA:
        live[SymbolProgram.src(op)] = true;
        break;
      case SymbolProgram.OP_COPY:
      case SymbolProgram.OP_MULCOPY:
      case SymbolProgram.OP_XOR_IN:
        live[dst] = false;
        live[SymbolProgram.src(op)] = true;
        break;
      case SymbolProgram.OP_LOAD:
      case SymbolProgram.OP_ZERO:
        live[dst] = false;
        break;
      default:
        break;
    }
    return true;
  }

  private boolean pruneMulti(long op, boolean[] live) {
    int co = SymbolProgram.dst(op) * h;
    boolean any = false;
    for (int hh = 0; hh < h; hh++) {
      if (coefs[co + hh] != 0 && live[s + hh]) {
        any = true;
      }
    }
    if (!any) {
      return false;
    }
    for (int hh = 0; hh < h; hh++) {
      if (coefs[co + hh] != 0) {
        live[s + hh] = true;
      }
    }
    live[SymbolProgram.src(op)] = true;
    return true;
  }

  /** SPREAD[b] has octet i equal to bit i of b: a bit row's byte as 8 octets of 0 or 1. */
  private static final long[] SPREAD = new long[256];

  static {
    for (int b = 0; b < 256; b++) {
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v |= (long) ((b >>> i) & 1) << (i << 3);
      }
      SPREAD[b] = v;
    }
  }

  /**
   * Adds beta times a bit row (words longs of src from so) to an octet row (dst, uw longs of 8
   * octets): a byte of bits at a time through {@link #SPREAD} (octets 0 or 1 times beta never carry
   * into each other).
   */
  private static void spreadXor(long[] src, int so, int words, long[] dst, int uw, int beta) {
    for (int x = 0; x < words; x++) {
      long word = src[so + x];
      if (word == 0) {
        continue;
      }
      int base = x << 3;
      int lim = Math.min(8, uw - base);
      for (int i = 0; i < lim; i++) {
        int b = (int) (word >>> (i << 3)) & 0xFF;
        if (b != 0) {
          dst[base + i] ^= SPREAD[b] * beta;
        }
      }
    }
  }

  private static int getByte(long[] row, int pos) {
    return (int) (row[pos >>> 3] >>> ((pos & 7) << 3)) & 0xFF;
  }

  private static void xorByte(long[] row, int pos, int v) {
    row[pos >>> 3] ^= (long) v << ((pos & 7) << 3);
  }

  private static void setByte(long[] row, int pos, int v) {
    int sh = (pos & 7) << 3;
    row[pos >>> 3] = (row[pos >>> 3] & ~(0xFFL << sh)) | ((long) v << sh);
  }
}
