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
 *       never chosen. Row degrees live in bucket lists and every (row, column) incidence is visited
 *       once, so this step is linear in the number of nonzeros. Columns still active when no row
 *       has an active column left are inactivated. Rows keep their columns in the order Tuple
 *       generates them (not sorted: sorting some 1,700 short rows took a fifth of a K = 820 plan
 *       build), so "first" is the first generated; any choice yields the same C (A has full
 *       rank). The row order changes which rows peel first: K = 820 inactivates 67 columns
 *       instead of 73 with sorted rows, but over 60 K from 10 to 20,000 the totals are level.
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
 * copy and reading a zero slot is skipped; at the end a backward liveness pass drops every
 * operation whose result is never used (for example eliminations into rows the dense solve did not
 * need). The result is identical to the RFC's decoder because C is unique when A has full rank.
 *
 * <p>Last, the XORs into one slot are grouped into single multi-operand operations ({@link
 * #fuseXors}), moving an XOR back to the group that last wrote its destination when no operation in
 * between read that destination or wrote its source.
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
 * Scratch} pool, and the liveness pass compacts the recorded operations in place, so building a
 * plan allocates little more than the plan itself (before, the temporaries were several times the
 * plan and, for K in the thousands, humongous G1 objects allocated and collected per plan).
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
    this.out = new SymbolProgram.Builder(pool.longsRaw(0, 24 * n + 1024));
    this.multi = new byte[h];
    buildRows(isis);
  }

  private int slotOfBinaryRow(int rb) {
    return rb < s ? rb : rb - s + s + h;
  }

  // ---------------------------------------------------------------- rows

  private void buildRows(int[] isis) {
    int b = p.b();
    // LDPC rows: count entries first.
    int[] cnt = pool.ints(0, nb);
    int[] pcnt = pool.ints(1, nb);
    // a = 1 + i / S and i % S kept as counters, (bb + a) % S by subtraction (a is small): no
    // integer division in these loops.
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
    for (int i = 0; i < s; i++) {
      cnt[i]++; // identity on column B + i
      pcnt[i] += 2;
    }
    int[] tup = new int[6];
    // Each LT row's indices (at most 33, section 5.3.5.3), flat: row t at ltCols[t * 34], its
    // count at ltCols[t * 34 + 33].
    int[] ltCols = pool.intsRaw(8, n * 34);
    for (int t = 0; t < n; t++) {
      int o = t * 34;
      int m = Generators.encIndices(p, isis[t] & 0xFFFFFFFFL, tup, ltCols, o);
      ltCols[o + 33] = m;
      for (int q = o; q < o + m; q++) {
        if (ltCols[q] < w) {
          cnt[s + t]++;
        } else {
          pcnt[s + t]++;
        }
      }
    }
    vStart = pool.ints(2, nb + 1);
    piStart = pool.ints(3, nb + 1);
    for (int r = 0; r < nb; r++) {
      vStart[r + 1] = vStart[r] + cnt[r];
      piStart[r + 1] = piStart[r] + pcnt[r];
    }
    vCols = pool.intsRaw(4, vStart[nb]);
    piCols = pool.intsRaw(5, piStart[nb]);
    int[] vf = pool.intsRaw(6, nb);
    int[] pf = pool.intsRaw(7, nb);
    System.arraycopy(vStart, 0, vf, 0, nb);
    System.arraycopy(piStart, 0, pf, 0, nb);
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
    for (int i = 0; i < s; i++) {
      vCols[vf[i]++] = b + i;
      piCols[pf[i]++] = i % pp;
      piCols[pf[i]++] = (i + 1) % pp;
    }
    for (int t = 0; t < n; t++) {
      int o = t * 34;
      for (int q = o; q < o + ltCols[o + 33]; q++) {
        int c = ltCols[q];
        if (c < w) {
          vCols[vf[s + t]++] = c;
        } else {
          piCols[pf[s + t]++] = c - w;
        }
      }
    }
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

  /**
   * Whether some row lists a column twice (columns below {@code cols}); one pass with a row stamp
   * per column, in a scratch slot that is free until phase 1.
   */
  private boolean hasDuplicates(int[] start, int[] list, int cols, int scratchSlot) {
    int[] stamp = pool.ints(scratchSlot, cols);
    for (int r = 0; r < nb; r++) {
      int mark = r + 1;
      for (int q = start[r]; q < start[r + 1]; q++) {
        int c = list[q];
        if (stamp[c] == mark) {
          return true;
        }
        stamp[c] = mark;
      }
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
      out.add(SymbolProgram.encode(SymbolProgram.OP_XOR_IN, 0, src, dst));
      pending[dst] = false;
      return;
    }
    if (zero[dst]) {
      out.add(SymbolProgram.encode(SymbolProgram.OP_COPY, 0, src, dst));
      zero[dst] = false;
    } else {
      out.add(SymbolProgram.encode(SymbolProgram.OP_XOR, 0, src, dst));
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
    if (zero[dst]) {
      out.add(SymbolProgram.encode(SymbolProgram.OP_MULCOPY, c, src, dst));
      zero[dst] = false;
    } else {
      out.add(SymbolProgram.encode(SymbolProgram.OP_FMA, c, src, dst));
    }
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
    out.add(SymbolProgram.encode(SymbolProgram.OP_MULTI_FMA, 0, src, idx));
  }

  private void emitScale(int c, int dst) {
    materialize(dst);
    if (c == 1 || zero[dst]) {
      return;
    }
    out.add(SymbolProgram.encode(SymbolProgram.OP_SCALE, c, 0, dst));
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
      out.add(SymbolProgram.encode(SymbolProgram.OP_LOAD, 0, in, dst));
      zero[dst] = false;
    }
  }

  /** Emits the deferred load of a slot that is about to be read or modified in place. */
  private void materialize(int slot) {
    if (pending[slot]) {
      pending[slot] = false;
      out.add(SymbolProgram.encode(SymbolProgram.OP_LOAD, 0, slot - s - h, slot));
    }
  }

  // ---------------------------------------------------------------- solve

  /**
   * Runs the elimination and records the program.
   *
   * @param outputCols the intermediate symbol columns whose values the caller will read (liveness)
   *     or null for all L
   */
  Result solve(int[] outputCols) throws RankDeficientException {
    // Initial load.
    for (int i = 0; i < s + h; i++) {
      zero[i] = true;
    }
    zero[gSlot] = true;
    for (int t = 0; t < n; t++) {
      emitLoad(t, s + h + t);
    }

    phase1();
    forward();
    denseRows();
    hdpcRows();
    denseSolve();
    backSubstitution();
    return finish(outputCols);
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

  /** Phase 1: peeling with inactivation (matrix only). */
  private void phase1() {
    int nnz = vStart[nb];
    int[] colStart = pool.ints(12, w + 1);
    for (int q = 0; q < nnz; q++) {
      colStart[vCols[q] + 1]++;
    }
    for (int c = 0; c < w; c++) {
      colStart[c + 1] += colStart[c];
    }
    int[] colRows = pool.intsRaw(13, nnz);
    int[] cf = pool.intsRaw(6, w);
    System.arraycopy(colStart, 0, cf, 0, w);
    for (int r = 0; r < nb; r++) {
      for (int q = vStart[r]; q < vStart[r + 1]; q++) {
        colRows[cf[vCols[q]]++] = r;
      }
    }
    int[] deg = pool.intsRaw(14, nb);
    int maxDeg = 0;
    for (int r = 0; r < nb; r++) {
      deg[r] = vStart[r + 1] - vStart[r];
      maxDeg = Math.max(maxDeg, deg[r]);
    }
    int[] head = pool.intsRaw(15, maxDeg + 1);
    Arrays.fill(head, 0, maxDeg + 1, -1);
    int[] next = pool.intsRaw(16, nb);
    int[] prev = pool.intsRaw(17, nb);
    chosenFlag = pool.bools(1, nb);
    for (int r = nb - 1; r >= 0; r--) {
      if (deg[r] > 0) {
        int d = deg[r];
        next[r] = head[d];
        prev[r] = -1;
        if (head[d] >= 0) {
          prev[head[d]] = r;
        }
        head[d] = r;
      }
    }
    // Column state: pivotOrder >= 0, or inactive index in colInactive, else active.
    colPivot = pool.intsRaw(18, w);
    colInactive = pool.intsRaw(19, w);
    Arrays.fill(colPivot, 0, w, -1);
    Arrays.fill(colInactive, 0, w, -1);
    chosenRow = pool.intsRaw(20, Math.min(nb, w));
    int[] inactiveColOf = pool.intsRaw(21, l); // inactive index -> column
    u = pp;
    for (int q = 0; q < pp; q++) {
      inactiveColOf[q] = w + q;
    }
    int i = 0;
    int minDeg = 1;
    while (true) {
      while (minDeg <= maxDeg && head[minDeg] < 0) {
        minDeg++;
      }
      if (minDeg > maxDeg) {
        break;
      }
      int r = head[minDeg];
      // unlink r
      unlink(r, deg[r], head, next, prev);
      chosenFlag[r] = true;
      int k = i++;
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
        for (int e = colStart[c]; e < colStart[c + 1]; e++) {
          int r2 = colRows[e];
          if (chosenFlag[r2]) {
            continue;
          }
          int d = deg[r2];
          unlink(r2, d, head, next, prev);
          d--;
          deg[r2] = d;
          if (d > 0) {
            next[r2] = head[d];
            prev[r2] = -1;
            if (head[d] >= 0) {
              prev[head[d]] = r2;
            }
            head[d] = r2;
            if (d < minDeg) {
              minDeg = d;
            }
          }
        }
      }
    }
    for (int c = 0; c < w; c++) {
      if (colPivot[c] < 0 && colInactive[c] < 0) {
        colInactive[c] = u;
        inactiveColOf[u++] = c;
      }
    }
    chosen = i;
    words = (u + 63) >>> 6;
    // Slot of each V column's pivot row (or -1 while the column is inactive): one lookup instead of
    // colPivot -> chosenRow -> slotOfBinaryRow in the substitution loops.
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
      int r = chosenRow[k];
      int dstSlot = slotOfBinaryRow(r);
      int zo = k * words;
      for (int q = piStart[r]; q < piStart[r + 1]; q++) {
        int t = piCols[q];
        z[zo + (t >>> 6)] ^= 1L << t;
      }
      for (int q = vStart[r]; q < vStart[r + 1]; q++) {
        int c = vCols[q];
        int j = colPivot[c];
        if (j >= 0) {
          if (j == k) {
            continue;
          }
          if (j > k) {
            throw new IllegalStateException("elimination order broken at row " + r);
          }
          int jo = j * words;
          for (int x = 0; x < words; x++) {
            z[zo + x] ^= z[jo + x];
          }
          emitXor(colSlot[c], dstSlot);
        } else {
          int t = colInactive[c];
          z[zo + (t >>> 6)] ^= 1L << t;
        }
      }
    }

  }

  /** Schur complement rows of the binary rows that were not chosen; d2 += F z on symbols. */
  private void denseRows() {
    nUnchosen = nb - chosen;
    denseRow = pool.intsRaw(22, nUnchosen); // binary row ids
    bits = pool.longs(2, nUnchosen * words);
    int dn = 0;
    for (int r = 0; r < nb; r++) {
      if (chosenFlag[r]) {
        continue;
      }
      int di = dn++;
      denseRow[di] = r;
      int dstSlot = slotOfBinaryRow(r);
      int bo = di * words;
      for (int q = piStart[r]; q < piStart[r + 1]; q++) {
        int t = piCols[q];
        bits[bo + (t >>> 6)] ^= 1L << t;
      }
      for (int q = vStart[r]; q < vStart[r + 1]; q++) {
        int c = vCols[q];
        int j = colPivot[c];
        if (j >= 0) {
          int jo = j * words;
          for (int x = 0; x < words; x++) {
            bits[bo + x] ^= z[jo + x];
          }
          emitXor(colSlot[c], dstSlot);
        } else {
          int t = colInactive[c];
          bits[bo + (t >>> 6)] ^= 1L << t;
        }
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
    out.add(SymbolProgram.encode(SymbolProgram.OP_ZERO, 0, 0, gSlot));
    zero[gSlot] = false;
    for (int hh = 0; hh < h; hh++) {
      out.add(SymbolProgram.encode(SymbolProgram.OP_ZERO, 0, 0, s + hh));
      zero[s + hh] = false;
    }
    int ks = kPrime + s;
    for (int c = 0; c < ks; c++) {
      for (int x = 0; x < uw; x++) {
        g[x] = Gf256.xtimeWord(g[x]);
      }
      int j = c < w ? colPivot[c] : -1;
      int zSlot = -1;
      if (j >= 0) {
        spreadXor(z, j * words, words, g, uw, 1);
        zSlot = colSlot[c];
        materialize(zSlot);
        if (zero[zSlot]) {
          zSlot = -1;
        }
      } else {
        int t = c < w ? colInactive[c] : c - w;
        g[t >>> 3] ^= 1L << ((t & 7) << 3);
      }
      if (c < ks - 1) {
        long y = (c + 1) & 0xFFFFFFFFL;
        int h1 = Generators.rand(y, 6, h);
        int h2 = (h1 + Generators.rand(y, 7, h - 1) + 1) % h;
        long[] r1 = hd[h1];
        long[] r2 = hd[h2];
        for (int x = 0; x < uw; x++) {
          r1[x] ^= g[x];
          r2[x] ^= g[x];
        }
        out.add(SymbolProgram.encode(
            zSlot < 0 ? SymbolProgram.OP_HDPC_STEP0 : SymbolProgram.OP_HDPC_STEP,
            (h1 << 4) | h2, zSlot < 0 ? 0 : zSlot, gSlot));
      } else {
        emitScale(2, gSlot);
        if (zSlot >= 0) {
          emitXor(zSlot, gSlot);
        }
        java.util.Arrays.fill(multi, (byte) 0);
        for (int hh = 0; hh < h; hh++) {
          int a = Gf256.alphaPow(hh);
          long[] row = hd[hh];
          for (int x = 0; x < uw; x++) {
            row[x] ^= Gf256.mulWord(g[x], a);
          }
          multi[hh] = (byte) a;
        }
        emitMulti(gSlot);
      }
    }
    for (int hh = 0; hh < h; hh++) {
      xorByte(hd[hh], pp - h + hh, 1);
    }

  }

  /** Gauss-Jordan over the inactive columns: binary rows, then HDPC rows on what is left. */
  private void denseSolve() throws RankDeficientException {
    inactSlot = new int[u];
    boolean[] pivoted = pool.bools(3, nUnchosen);
    int[] binPivotOfCol = new int[u];
    Arrays.fill(binPivotOfCol, -1);
    int[] qCols = new int[u];
    int nq = 0;
    for (int col = 0; col < u; col++) {
      int cw = col >>> 6;
      long cm = 1L << col;
      int piv = -1;
      for (int di = 0; di < nUnchosen; di++) {
        if (!pivoted[di] && (bits[di * words + cw] & cm) != 0) {
          piv = di;
          break;
        }
      }
      if (piv < 0) {
        qCols[nq++] = col;
        continue;
      }
      pivoted[piv] = true;
      binPivotOfCol[col] = piv;
      int po = piv * words;
      int pSlot = slotOfBinaryRow(denseRow[piv]);
      for (int di = 0; di < nUnchosen; di++) {
        if (di != piv && (bits[di * words + cw] & cm) != 0) {
          int o = di * words;
          for (int x = 0; x < words; x++) {
            bits[o + x] ^= bits[po + x];
          }
          emitXor(pSlot, slotOfBinaryRow(denseRow[di]));
        }
      }
      java.util.Arrays.fill(multi, (byte) 0);
      for (int hh = 0; hh < h; hh++) {
        int beta = getByte(hd[hh], col);
        if (beta != 0) {
          spreadXor(bits, po, words, hd[hh], (u + 7) >>> 3, beta);
          multi[hh] = (byte) beta;
        }
      }
      emitMulti(pSlot);
      inactSlot[col] = pSlot;
    }
    // HDPC rows over the columns no binary row covers.
    boolean[] hUsed = new boolean[h];
    int[] hOfQ = new int[nq];
    for (int qi = 0; qi < nq; qi++) {
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
      java.util.Arrays.fill(multi, (byte) 0);
      for (int hh = 0; hh < h; hh++) {
        int gamma = getByte(hd[hh], col);
        if (hh != piv && gamma != 0) {
          long[] row = hd[hh];
          for (int q2 = 0; q2 < nq; q2++) {
            int c2 = qCols[q2];
            xorByte(row, c2, Gf256.mul(gamma, getByte(prow, c2)));
          }
          multi[hh] = (byte) gamma;
        }
      }
      emitMulti(s + piv);
      inactSlot[col] = s + piv;
    }
    // Back-substitute the HDPC-solved columns into the binary pivot rows.
    for (int qi = 0; qi < nq; qi++) {
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

  }

  /** Reload the chosen rows and compute x = Lt^-1 (d1 + Ut y). */
  private void backSubstitution() {
    // From here on every V column has a slot: its pivot row's, or the dense solve's.
    for (int c = 0; c < w; c++) {
      if (colSlot[c] < 0) {
        colSlot[c] = inactSlot[colInactive[c]];
      }
    }
    for (int k = 0; k < chosen; k++) {
      int r = chosenRow[k];
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
      for (int q = vStart[r]; q < vStart[r + 1]; q++) {
        int src = colSlot[vCols[q]];
        if (src != dstSlot) {
          emitXor(src, dstSlot);
        }
      }
    }

  }

  private Result finish(int[] outputCols) {
    int[] colToSlot = new int[l];
    for (int c = 0; c < w; c++) {
      colToSlot[c] = colSlot[c];
    }
    for (int q = 0; q < pp; q++) {
      colToSlot[w + q] = inactSlot[q];
    }

    boolean[] live = pool.bools(2, slots);
    if (outputCols == null) {
      for (int c = 0; c < l; c++) {
        live[colToSlot[c]] = true;
      }
    } else {
      for (int c : outputCols) {
        live[colToSlot[c]] = true;
      }
    }
    for (int sl = 0; sl < slots; sl++) {
      if (live[sl]) {
        materialize(sl);
      }
      if (live[sl] && zero[sl]) {
        out.add(SymbolProgram.encode(SymbolProgram.OP_ZERO, 0, 0, sl));
      }
    }
    Result res = new Result();
    // Both passes compact the recorded operations in place (the builder's pooled array): only the
    // final program is allocated.
    long[] raw = out.raw();
    int kept = prune(live);
    int[] lists = new int[0];
    if (fuse) {
      lists = fuseXors(raw, kept);
      kept = fusedCount;
    }
    long[] ops = Arrays.copyOf(raw, kept);
    res.program = new SymbolProgram(
        ops, slots, s, h, Arrays.copyOf(coefs, coefCount * h), heavyOps, lists);
    res.colToSlot = colToSlot;
    res.slots = slots;
    res.inactive = u;
    res.chosen = chosen;
    return res;
  }

  /** Whether {@link #finish} fuses runs of XORs (tests compare against the unfused program). */
  boolean fuse = true;
  private int fusedCount;

  /**
   * Groups XORs into one destination into a single {@code OP_XOR_MANY} (see SymbolOps#sumList),
   * compacting the first n operations of {@code ops} in place ({@link #fusedCount} operations remain); returns the source
   * lists. One pass in program order: an XOR d ^= s joins the last operation that wrote d when that
   * was an XOR, COPY or XOR_IN group (which computes d as a sum) and nothing since then read d or
   * wrote s, so moving the XOR back to that group changes no value any operation reads (XOR being
   * associative and commutative). Otherwise the operation starts a new group. Forward and back
   * substitution emit their rows as runs already; Gauss-Jordan in the dense solve emits column by
   * column (one source, many destinations), and its XORs into a row join across columns until the
   * row is read as a pivot. For K = 820 the 14,547 operations become 2,786 (1,386 of them fused,
   * 9.5 sources on average); replayed one by one, each XOR loaded and stored its destination, fused
   * that happens once per {@link SymbolOps#SUM_MAX} - 1 sources, which halves the symbol loads and
   * stores of the XORs (40,630 to 19,312 per replay). The result is the same octet for octet.
   */
  private int[] fuseXors(long[] ops, int n) {
    // Group index + 1 of the last group that read each slot, 0 for none; of the last group that
    // wrote it, negated unless that group is a sum (XOR, COPY or XOR_IN group) into the slot.
    int[] lastRead = pool.ints(23, slots);
    int[] lastWrite = pool.ints(24, slots);
    int[] gCount = pool.intsRaw(25, n); // sources of a sum group, 0 for any other operation
    int[] gPos = pool.intsRaw(26, n);
    int[] gOff = pool.intsRaw(27, n);
    int[] eSlot = pool.intsRaw(28, n); // source entries in program order, and their group
    int[] eGroup = pool.intsRaw(29, n);
    int ng = 0;
    int ne = 0;
    for (int q = 0; q < n; q++) {
      long op = ops[q];
      int code = SymbolProgram.opcode(op);
      int d = SymbolProgram.dst(op);
      int src = SymbolProgram.src(op);
      if (code == SymbolProgram.OP_XOR && src != d) {
        int g1 = lastWrite[d];
        if (g1 > 0 && lastRead[d] <= g1 && Math.abs(lastWrite[src]) < g1) {
          eSlot[ne] = src;
          eGroup[ne++] = g1 - 1;
          gCount[g1 - 1]++;
          if (lastRead[src] < g1) {
            lastRead[src] = g1;
          }
          continue;
        }
      }
      int g = ng++;
      int g1 = g + 1;
      ops[g] = op; // g <= q: in place
      gCount[g] = 0;
      switch (code) {
        case SymbolProgram.OP_XOR:
        case SymbolProgram.OP_COPY:
        case SymbolProgram.OP_XOR_IN:
          lastRead[src] = g1;
          if (code == SymbolProgram.OP_XOR) {
            lastRead[d] = g1;
          }
          if (src != d) {
            eSlot[ne] = src;
            eGroup[ne++] = g;
            gCount[g] = 1;
            lastWrite[d] = g1;
          } else {
            lastWrite[d] = -g1;
          }
          break;
        case SymbolProgram.OP_FMA:
          lastRead[src] = g1;
          lastRead[d] = g1;
          lastWrite[d] = -g1;
          break;
        case SymbolProgram.OP_MULCOPY:
          lastRead[src] = g1;
          lastWrite[d] = -g1;
          break;
        case SymbolProgram.OP_SCALE:
          lastRead[d] = g1;
          lastWrite[d] = -g1;
          break;
        case SymbolProgram.OP_HDPC_STEP:
        case SymbolProgram.OP_HDPC_STEP0: {
          if (code == SymbolProgram.OP_HDPC_STEP) {
            lastRead[src] = g1;
          }
          int a1 = s + (SymbolProgram.coef(op) >>> 4);
          int a2 = s + (SymbolProgram.coef(op) & 15);
          lastRead[d] = g1;
          lastWrite[d] = -g1;
          lastRead[a1] = g1;
          lastWrite[a1] = -g1;
          lastRead[a2] = g1;
          lastWrite[a2] = -g1;
          break;
        }
        case SymbolProgram.OP_MULTI_FMA: {
          lastRead[src] = g1;
          int co = d * h;
          for (int hh = 0; hh < h; hh++) {
            if (coefs[co + hh] != 0) {
              lastRead[s + hh] = g1;
              lastWrite[s + hh] = -g1;
            }
          }
          break;
        }
        default: // LOAD, ZERO
          lastWrite[d] = -g1;
          break;
      }
    }
    // Lay the source lists out group by group (a count, then the sources in program order).
    int nl = 0;
    for (int g = 0; g < ng; g++) {
      if (gCount[g] >= 2) {
        gOff[g] = nl;
        gPos[g] = nl + 1;
        nl += gCount[g] + 1;
      }
    }
    if (nl > SymbolProgram.MAX_SLOTS) { // 26-bit list offset; plans stay far below
      throw new IllegalStateException("fused source lists too long: " + nl);
    }
    int[] lists = new int[nl];
    for (int g = 0; g < ng; g++) {
      if (gCount[g] >= 2) {
        lists[gOff[g]] = gCount[g];
      }
    }
    for (int e = 0; e < ne; e++) {
      int g = eGroup[e];
      if (gCount[g] >= 2) {
        lists[gPos[g]++] = eSlot[e];
      }
    }
    int o = 0;
    for (int g = 0; g < ng; g++) {
      long op = ops[g];
      if (gCount[g] < 2) {
        ops[o++] = op; // a lone operation stays as it was
        continue;
      }
      int code = SymbolProgram.opcode(op);
      int mode = code == SymbolProgram.OP_XOR ? SymbolProgram.SUM_ACC
          : code == SymbolProgram.OP_COPY ? SymbolProgram.SUM_SET : SymbolProgram.SUM_IN;
      ops[o++] = SymbolProgram.encode(
          SymbolProgram.OP_XOR_MANY, mode, gOff[g], SymbolProgram.dst(op));
    }
    fusedCount = o;
    return lists;
  }

  /**
   * Backward liveness: drops operations whose destination is not read later, compacting the kept
   * ones (in order) to the front of the builder's array; returns how many were kept.
   */
  private int prune(boolean[] live) {
    int total = out.size();
    long[] ops = out.raw();
    for (int q = total - 1; q >= 0; q--) {
      long op = ops[q];
      ops[q] = 0; // opcode 0: dropped, unless kept below
      int dst = SymbolProgram.dst(op);
      int code = SymbolProgram.opcode(op);
      if (code == SymbolProgram.OP_MULTI_FMA) {
        boolean any = false;
        int co = dst * h;
        for (int hh = 0; hh < h; hh++) {
          if (coefs[co + hh] != 0 && live[s + hh]) {
            any = true;
          }
        }
        if (!any) {
          continue;
        }
        ops[q] = op;
        for (int hh = 0; hh < h; hh++) {
          if (coefs[co + hh] != 0) {
            live[s + hh] = true;
          }
        }
        live[SymbolProgram.src(op)] = true;
        continue;
      }
      if (code == SymbolProgram.OP_HDPC_STEP || code == SymbolProgram.OP_HDPC_STEP0) {
        int a1 = s + (SymbolProgram.coef(op) >>> 4);
        int a2 = s + (SymbolProgram.coef(op) & 15);
        if (!live[dst] && !live[a1] && !live[a2]) {
          continue;
        }
        ops[q] = op;
        live[dst] = true;
        live[a1] = true;
        live[a2] = true;
        if (code == SymbolProgram.OP_HDPC_STEP) {
          live[SymbolProgram.src(op)] = true;
        }
        continue;
      }
      if (!live[dst]) {
        continue;
      }
      ops[q] = op;
      switch (SymbolProgram.opcode(op)) {
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
    }
    int o = 0;
    for (int q = 0; q < total; q++) {
      if (ops[q] != 0) {
        ops[o++] = ops[q]; // o <= q: in place
      }
    }
    pool.keepLongs(0, ops);
    return o;
  }

  private static void unlink(int r, int d, int[] head, int[] next, int[] prev) {
    int pr = prev[r];
    int nx = next[r];
    if (pr >= 0) {
      next[pr] = nx;
    } else {
      head[d] = nx;
    }
    if (nx >= 0) {
      prev[nx] = pr;
    }
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
