package io.runicquanta.codec.raptorq;

import java.util.Arrays;

/**
 * A straight-line program of symbol operations over a workspace of slots (each one symbol), as
 * recorded by {@link PlanBuilder} and replayed by {@link SymbolOps}. Each operation is one
 * {@code long}: opcode (4 bits) | coefficient (8 bits) | source (26 bits) | destination (26 bits),
 * so a program of n operations takes 8n bytes of heap. Immutable once built; thread safe.
 */
final class SymbolProgram {
  static final int OP_XOR = 1; // dst ^= src
  static final int OP_COPY = 2; // dst = src
  static final int OP_FMA = 3; // dst ^= c * src
  static final int OP_MULCOPY = 4; // dst = c * src
  static final int OP_SCALE = 5; // dst = c * dst
  static final int OP_LOAD = 6; // dst = input[src]
  static final int OP_ZERO = 7; // dst = 0
  /**
   * HDPC column step (see PlanBuilder): G = dst; G = alpha * G + src; slot[hdpcBase + (coef >> 4)]
   * ^= G; slot[hdpcBase + (coef & 15)] ^= G.
   */
  static final int OP_HDPC_STEP = 8;
  /** As OP_HDPC_STEP without the source term: G = alpha * G; then the two accumulations. */
  static final int OP_HDPC_STEP0 = 9;
  /**
   * slot[hdpcBase + j] ^= coefs[dst * hdpcCount + j] * src for every j in 0..hdpcCount-1 (dst
   * field = index of the coefficient vector).
   */
  static final int OP_MULTI_FMA = 10;
  /**
   * dst = input[dst - (hdpcBase + hdpcCount)] ^ slot[src]: an LT row's slot loaded from its input
   * symbol and XORed in one pass (the input of LT row t sits in slot S + H + t).
   */
  static final int OP_XOR_IN = 11;
  /**
   * A run of XORs into one destination in one pass (PlanBuilder, "Fused XORs"): n = lists[src],
   * sources lists[src + 1 .. src + n]; coef = {@link #SUM_ACC}: dst ^= sources; {@link #SUM_SET}:
   * dst = sources; {@link #SUM_IN}: dst = input[dst - (hdpcBase + hdpcCount)] ^ sources.
   */
  static final int OP_XOR_MANY = 12;

  static final int SUM_ACC = 0;
  static final int SUM_SET = 1;
  static final int SUM_IN = 2;

  static final int MAX_SLOTS = 1 << 26;
  private static final long MASK26 = (1L << 26) - 1;

  final long[] ops;
  /** Workspace slots the program touches (0..slots-1). */
  final int slots;
  /** First HDPC accumulator slot (S), for the fused HDPC operations. */
  final int hdpcBase;
  /** H, the number of HDPC slots. */
  final int hdpcCount;
  /** Coefficient vectors of OP_MULTI_FMA, hdpcCount bytes each. */
  final byte[] coefs;
  /**
   * At least the number of OP_FMA, OP_MULCOPY and OP_SCALE operations (the builder counts them as
   * it emits them, before dropping dead ones): with {@link #coefs} (one vector per OP_MULTI_FMA
   * emitted) and {@link #lists} it bounds the replay cost without a pass over the operations
   * ({@link DenseForm#replayUpperBound}).
   */
  final int heavyOps;
  /** Source lists of OP_XOR_MANY: a count, then that many slots. */
  final int[] lists;

  SymbolProgram(long[] ops, int slots, int hdpcBase, int hdpcCount, byte[] coefs) {
    this(ops, slots, hdpcBase, hdpcCount, coefs, ops.length, new int[0]);
  }

  SymbolProgram(
      long[] ops, int slots, int hdpcBase, int hdpcCount, byte[] coefs, int heavyOps, int[] lists) {
    this.heavyOps = heavyOps;
    this.ops = ops;
    this.slots = slots;
    this.hdpcBase = hdpcBase;
    this.hdpcCount = hdpcCount;
    this.coefs = coefs;
    this.lists = lists;
  }

  static long encode(int opcode, int coef, int src, int dst) {
    return ((long) opcode << 60) | ((long) coef << 52) | ((long) src << 26) | dst;
  }

  static int opcode(long op) {
    return (int) (op >>> 60);
  }

  static int coef(long op) {
    return (int) (op >>> 52) & 0xFF;
  }

  static int src(long op) {
    return (int) ((op >>> 26) & MASK26);
  }

  static int dst(long op) {
    return (int) (op & MASK26);
  }

  /** Slots a workspace for this program needs: {@link #slots} plus 7 scratch planes. */
  int workspaceSlots() {
    return slots + 7;
  }

  int size() {
    return ops.length;
  }

  /** Approximate heap footprint in bytes. */
  long heapBytes() {
    return 48L + 8L * ops.length + coefs.length + 4L * lists.length;
  }

  /**
   * Growable buffer of operations used while building; starts from a pooled array (see {@link
   * Scratch}) and hands it back, grown, through {@link #raw()}.
   */
  static final class Builder {
    private long[] ops;
    private int n;

    Builder(long[] initial) {
      this.ops = initial;
    }

    void add(long op) {
      if (n == ops.length) {
        ops = Arrays.copyOf(ops, n * 2);
      }
      ops[n++] = op;
    }

    int size() {
      return n;
    }

    long get(int i) {
      return ops[i];
    }

    /** The backing array (length at least {@link #size()}); the builder's owner may edit it. */
    long[] raw() {
      return ops;
    }
  }
}
