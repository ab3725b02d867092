package io.runicquanta.codec.raptorq;

/**
 * The schedule of symbol operations that turns the K source symbols of a block (padded to K') into
 * its L intermediate symbols (RFC 6330 section 5.3.3.4). It depends only on K, not on the symbol
 * size or data, so one plan serves every sub-block of a block and every block with the same K.
 * Immutable and thread safe.
 *
 * <p>Building runs the elimination of {@link PlanBuilder} once on the constraint matrix (time
 * roughly linear in K plus a dense part cubic in the number of inactivated columns, at most about
 * 600). The plan keeps one {@code long} per recorded symbol operation (about 20 per source symbol)
 * plus an {@code int} per intermediate symbol. Measured for K = 56403: 1,207,054 operations, 9.9
 * MB of heap ({@link #heapBytes()}); an encoding and a decoding plan for that K were built and
 * held in a JVM with -Xmx256m. For K = 1025 the plan is about 200 KB and building it allocates
 * about 1.2 MB of temporaries.
 */
public final class EncodingPlan {
  private final SystematicParams params;
  private final SymbolProgram program;
  private final int[] colToSlot;
  private final int inactive;

  private EncodingPlan(SystematicParams params, PlanBuilder.Result r) {
    this.params = params;
    this.program = r.program;
    this.colToSlot = r.colToSlot;
    this.inactive = r.inactive;
  }

  /**
   * Builds the plan for K source symbols.
   *
   * @param sourceSymbols K, 1 to 56403
   * @throws IllegalArgumentException if K is out of range
   */
  public static EncodingPlan forSourceSymbols(int sourceSymbols) {
    SystematicParams p = SystematicParams.forSourceSymbols(sourceSymbols);
    int kp = p.kPrime();
    int[] isis = new int[kp];
    int[] input = new int[kp];
    sourceRows(sourceSymbols, isis, input); // no loop here: see PlanBuilder, "Compilation"
    try {
      return new EncodingPlan(p, new PlanBuilder(p, isis, input).solve(null));
    } catch (PlanBuilder.RankDeficientException e) {
      // Table 2 guarantees full rank for the source ISIs of every K' (section 5.6).
      throw new IllegalStateException("constraint matrix rank deficient for K=" + sourceSymbols, e);
    }
  }

  private static void sourceRows(int k, int[] isis, int[] input) {
    for (int t = 0; t < isis.length; t++) {
      isis[t] = t;
      input[t] = t < k ? t : -1;
    }
  }

  /** K. */
  public int sourceSymbols() {
    return params.k();
  }

  /** The block's derived parameters. */
  public SystematicParams params() {
    return params;
  }

  /** Number of symbol operations the plan replays per sub-block. */
  public int operationCount() {
    return program.size();
  }

  /** Inactivated columns of the elimination (P plus those inactivated while peeling). */
  public int inactiveColumns() {
    return inactive;
  }

  /** Approximate heap held by this plan, bytes. */
  public long heapBytes() {
    return program.heapBytes() + 16L + 4L * colToSlot.length + 64;
  }

  SymbolProgram program() {
    return program;
  }

  int[] colToSlot() {
    return colToSlot;
  }

  /** Workspace slots the encoder needs (program slots plus scratch). */
  int slots() {
    return program.workspaceSlots();
  }
}
