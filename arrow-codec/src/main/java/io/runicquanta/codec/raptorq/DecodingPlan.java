package io.runicquanta.codec.raptorq;

import io.runicquanta.codec.UndecodableBlockException;
import java.util.Arrays;

/**
 * The schedule of symbol operations that recovers the K source symbols of a block from a given list
 * of received ESIs (RFC 6330 section 5.4, inactivation decoding). It depends only on K and the ESI
 * list, so one plan serves every sub-block of a block. Immutable and thread safe.
 *
 * <p>The received symbols become LT rows of the decoding matrix (ESI below K is ISI = ESI, a repair
 * ESI X is ISI X + K' - K, section 5.3.1), together with the K' - K padding symbols, which are known
 * zeros, and the S + H constraint rows. {@link PlanBuilder} eliminates it and records the symbol
 * operations; the source symbols that were not received are then combined from the intermediate
 * symbols with their LT tuples (section 5.3.5.3). When every source ESI was received the plan is a
 * plain copy. Heap: one {@code long} per symbol operation (about 20 per source symbol) plus a few
 * {@code int}s per received and per missing symbol; 10.1 MB measured for K = 56403 with 10% of the
 * source symbols lost.
 */
public final class DecodingPlan {
  private final SystematicParams params;
  private final int[] esis;
  /** Per source ESI: index in esis of the received copy, or -1 when it must be computed. */
  private final int[] sourceIndex;
  /** CSR of workspace slots to XOR for each missing source ESI (in ESI order). */
  private final int[] missStart;
  private final int[] missSlots;
  private final SymbolProgram program;
  private final int slots;

  private DecodingPlan(
      SystematicParams params,
      int[] esis,
      int[] sourceIndex,
      int[] missStart,
      int[] missSlots,
      SymbolProgram program,
      int slots) {
    this.params = params;
    this.esis = esis;
    this.sourceIndex = sourceIndex;
    this.missStart = missStart;
    this.missSlots = missSlots;
    this.program = program;
    this.slots = slots;
  }

  /**
   * Builds the plan.
   *
   * @param sourceSymbols K of the block
   * @param esis the received ESIs, in the order their symbols will be given to the decoder (source
   *     ESIs below K, repair ESIs K to 2^24-1); duplicates are ignored: {@link #esis()} keeps the
   *     first occurrence of each, and that list is the layout the decoder reads
   * @throws io.runicquanta.codec.UndecodableBlockException if these symbols do not determine the
   *     block (rank deficient), naming K and how many symbols it had
   * @throws IllegalArgumentException for K or an ESI out of range
   */
  public static DecodingPlan build(int sourceSymbols, int[] esis) {
    SystematicParams p = SystematicParams.forSourceSymbols(sourceSymbols);
    if (esis == null) {
      throw new IllegalArgumentException("esis is null");
    }
    int k = sourceSymbols;
    // No loop of its own in this method (loops in the helpers below): a method called once per
    // plan with a long loop is compiled by C2 on stack replacement with everything it inlines,
    // the plan builder included (see PlanBuilder, "Compilation").
    int[] uniq = uniqueEsis(esis);
    int nu = uniq.length;
    if (nu < k) {
      throw new UndecodableBlockException(-1, k, nu);
    }
    int[] sourceIndex = new int[k];
    Arrays.fill(sourceIndex, -1);
    int missing = k - sourceIndices(uniq, k, sourceIndex);
    if (missing == 0) {
      return new DecodingPlan(
          p, uniq, sourceIndex, new int[1], new int[0], new SymbolProgram(new long[0], 0, 0, 0, new byte[0]), 0);
    }
    int kp = p.kPrime();
    int rows = nu + (kp - k);
    int[] isis = new int[rows];
    int[] input = new int[rows];
    ltRows(uniq, k, kp, isis, input);
    // Which intermediate symbols the missing source symbols need.
    int[] missStart = new int[missing + 1];
    int[] missCols = missingColumns(p, sourceIndex, missStart, new int[missing * 40]);
    PlanBuilder.Result r;
    try {
      r = new PlanBuilder(p, isis, input).solve(missCols);
    } catch (PlanBuilder.RankDeficientException e) {
      throw new UndecodableBlockException(-1, k, nu);
    }
    int[] missSlots = slotsOf(missCols, r.colToSlot);
    return new DecodingPlan(p, uniq, sourceIndex, missStart, missSlots, r.program, r.slots);
  }

  /** The ESIs without repeats, in their first order; each checked to be in range. */
  private static int[] uniqueEsis(int[] esis) {
    int[] uniq = new int[esis.length];
    int nu = 0;
    java.util.BitSet seenSmall = new java.util.BitSet();
    for (int e : esis) {
      if (e < 0 || e > 0xFFFFFF) {
        throw new IllegalArgumentException("ESI = " + e + ", expected 0 to 16777215");
      }
      if (!seenSmall.get(e)) {
        seenSmall.set(e);
        uniq[nu++] = e;
      }
    }
    return Arrays.copyOf(uniq, nu);
  }

  /** Fills sourceIndex for the source ESIs among uniq; returns how many there are. */
  private static int sourceIndices(int[] uniq, int k, int[] sourceIndex) {
    int found = 0;
    for (int q = 0; q < uniq.length; q++) {
      if (uniq[q] < k) {
        sourceIndex[uniq[q]] = q;
        found++;
      }
    }
    return found;
  }

  /** The LT rows: one per received symbol (ISI = ESI + K' - K for repair), then the padding. */
  private static void ltRows(int[] uniq, int k, int kp, int[] isis, int[] input) {
    int nu = uniq.length;
    for (int q = 0; q < nu; q++) {
      isis[q] = uniq[q] < k ? uniq[q] : uniq[q] + (kp - k);
      input[q] = q;
    }
    for (int q = 0; q < kp - k; q++) {
      isis[nu + q] = k + q;
      input[nu + q] = -1;
    }
  }

  /**
   * The intermediate symbol columns each missing source symbol combines (Enc), concatenated;
   * missStart[i] .. missStart[i + 1] for the i-th missing one.
   */
  private static int[] missingColumns(
      SystematicParams p, int[] sourceIndex, int[] missStart, int[] missCols) {
    int[] scratch = new int[46];
    int mi = 0;
    int nc = 0;
    for (int e = 0; e < sourceIndex.length; e++) {
      if (sourceIndex[e] >= 0) {
        continue;
      }
      int m = Generators.encIndices(p, e, scratch, scratch, 6);
      for (int q = 0; q < m; q++) {
        missCols[nc++] = scratch[6 + q];
      }
      missStart[++mi] = nc;
    }
    return Arrays.copyOf(missCols, nc);
  }

  private static int[] slotsOf(int[] cols, int[] colToSlot) {
    int[] slots = new int[cols.length];
    for (int q = 0; q < cols.length; q++) {
      slots[q] = colToSlot[cols[q]];
    }
    return slots;
  }

  /** K. */
  public int sourceSymbols() {
    return params.k();
  }

  /** The block's derived parameters. */
  public SystematicParams params() {
    return params;
  }

  /** The ESIs this plan reads, in the order the received symbols must be laid out (a copy). */
  public int[] esis() {
    return esis.clone();
  }

  /** How many symbols the plan reads ({@code esis().length}). */
  public int receivedCount() {
    return esis.length;
  }

  /** Number of symbol operations replayed per sub-block (elimination only). */
  public int operationCount() {
    return program.size();
  }

  /** Approximate heap held by this plan, bytes. */
  public long heapBytes() {
    return program.heapBytes() + 4L * (esis.length + sourceIndex.length + missStart.length
        + missSlots.length) + 96;
  }

  /** Workspace slots needed (0 when every source symbol was received). */
  int slots() {
    return slots == 0 ? 0 : program.workspaceSlots();
  }

  SymbolProgram program() {
    return program;
  }

  int[] sourceIndex() {
    return sourceIndex;
  }

  int[] missStart() {
    return missStart;
  }

  int[] missSlots() {
    return missSlots;
  }
}
