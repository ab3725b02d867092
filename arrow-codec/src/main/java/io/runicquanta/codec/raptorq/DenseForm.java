package io.runicquanta.codec.raptorq;

import java.util.List;
import org.apache.arrow.memory.ArrowBuf;

/**
 * The dense form of a {@link SymbolProgram}, for blocks with few source symbols: the program's
 * whole effect written as GF(256) coefficients over its input symbols, and the routine that
 * produces an output symbol straight from the inputs with those coefficients.
 *
 * <h2>Design</h2>
 *
 * <p>Every operation of a program is linear over GF(256) and works octet by octet, so after the
 * program has run, each slot holds sum_j M[slot][j] * input_j for a fixed matrix M. Replaying the
 * <em>same</em> program over "symbols" of w = (number of inputs) octets, with input j set to the
 * unit vector e_j, leaves row M[slot] in slot: {@link #compute} does that, which costs the
 * program's operation count times w octets (for K = 17, 335 operations over 17 octets) instead of
 * times T. An output symbol that is a sum of slots (a repair symbol: the XOR of the intermediate
 * symbols of its tuple; a missing source symbol in decoding: the same over the decoded ones) then
 * has as coefficients the XOR of those rows, and {@link Combiner} writes sum_j c_j * input_j
 * directly. So only the outputs actually needed are produced (for an encode with 10% repair
 * symbols, about K/10 of them; the source symbols are copies), not the L intermediate symbols with
 * their dozens of HDPC multiply-adds.
 *
 * <p>The combination is bit-sliced: with c_j = sum_b c_j,b alpha^b, the output is Horner's rule
 * over the 8 bit planes, out = (..((X_7) alpha + X_6) alpha + ..) alpha + X_0 where X_b is the XOR
 * of the inputs whose coefficient has bit b set. Per output that is 7 xtime passes (fused with the
 * first XORs of the next plane) plus one input read per set coefficient bit, about 4 per input for
 * random coefficients, taken four inputs per pass; coefficient 0 costs nothing, 1 one read. The
 * work goes in chunks of {@link #CHUNK} bytes, so the output chunk stays in L1 while all its
 * passes run and each input chunk is read from memory once per output.
 *
 * <h2>When</h2>
 *
 * <p>The dense route costs about (7 xtime passes + 4 reads per input) per output symbol, so it
 * grows as outputs x inputs, while the program's replay grows with its operation count (about 20
 * per source symbol plus the HDPC work). {@link #cheaper} compares the two in one unit (half a pass
 * of XOR over T bytes; weights per operation in {@link #replayCost}). Measured on the development
 * VM at 10% repair or loss, forced both ways: away from the crossover its choice was the faster
 * route in every run (T = 65532: dense for K = 10 to 50, the replay for K = 160 and 257; T = 1280:
 * dense for K = 10 to 50, the replay for K = 120 to 820); near it (K = 80 at T = 1280, 100 to 120
 * at T = 65532) the two are within the noise of a loaded machine. The matrix takes (slots + 7 + w)
 * x w bytes off heap, from the same memory source as the workspace. Stateless apart from the
 * per-thread scratch of {@link Combiner}; thread safe.
 */
final class DenseForm {
  private DenseForm() {}

  /** Choose by cost (default). */
  static final int AUTO = 0;
  /** Always the dense route where the caller can take it (tests, measurements). */
  static final int ON = 1;
  /** Never the dense route. */
  static final int OFF = 2;

  /**
   * Mode of the public entry points: system property {@code runicquanta.raptorq.dense} = {@code
   * auto} (default), {@code on} or {@code off}, for measurements.
   */
  static final int DEFAULT_MODE = parseMode(System.getProperty("runicquanta.raptorq.dense", "auto"));

  /** Output bytes per chunk of {@link Combiner#writeTo}. */
  static final int CHUNK = Integer.getInteger("runicquanta.raptorq.denseChunk", 2048);

  /** Per-operation overhead of a replay (dispatch, loop setup), in bytes of symbol it is worth. */
  private static final int OP_OVERHEAD_BYTES = 64;
  /** Fixed cost of one combination (coefficients, bit lists, 8 levels of calls), in bytes. */
  private static final int COMBINE_FIXED_BYTES = 512;
  /** Fixed cost of computing a dense form (its buffer, the unit vectors), in bytes. */
  private static final int FORM_FIXED_BYTES = 4096;

  static int parseMode(String s) {
    switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "auto":
        return AUTO;
      case "on":
        return ON;
      case "off":
        return OFF;
      default:
        throw new IllegalArgumentException(
            "runicquanta.raptorq.dense = '" + s + "', expected auto, on or off");
    }
  }

  /**
   * Cost of replaying the program over symbols of any size, in half passes of XOR over one symbol
   * (a pass = read two symbols, write one): XOR, copy and load 2, zero 1, an HDPC step 5 (xtime and
   * three stores), a plane build (scale, fused multiply-add) 14 plus one per plane XORed, a
   * table multiply 40.
   */
  static long replayCost(SymbolProgram p) {
    long c = 0;
    int h = p.hdpcCount;
    byte[] coefs = p.coefs;
    for (long op : p.ops) {
      c += opCost(op, h, coefs, p.lists);
    }
    return c;
  }

  /**
   * An upper bound of {@link #replayCost} without a pass over the operations: 5 per operation (the
   * most a light one costs), plus the most each fused multiply-add (14 + 8 H) and each table
   * multiply or scale (40) can cost, plus one per entry of the fused XORs' source lists (a fused
   * XOR of n sources costs at most n + 3, see {@link #opCost}).
   */
  static long replayUpperBound(SymbolProgram p) {
    int h = p.hdpcCount;
    long mfma = h == 0 ? 0 : p.coefs.length / h;
    return 5L * p.ops.length + (14L + 8L * h) * mfma + 40L * p.heavyOps + p.lists.length;
  }

  /** The cost of one operation (see {@link #replayCost}). */
  static int opCost(long op, int h, byte[] coefs, int[] lists) {
    int code = SymbolProgram.opcode(op);
    if (code == SymbolProgram.OP_XOR_MANY) {
      // one pass over the destination per SymbolOps.SUM_MAX - 1 sources: each pass reads its
      // sources and reads (except the first, unless accumulating) and writes the destination, in
      // the unit of a plain XOR (3 symbol touches = 2)
      int n = lists[SymbolProgram.src(op)];
      int passes = Math.max(1, (n + SymbolOps.SUM_MAX - 2) / (SymbolOps.SUM_MAX - 1));
      return (2 * n + 4 * passes + 2) / 3;
    }
    int c = WEIGHT[code];
    // the rare fused operations add one per plane they XOR
    if (code == SymbolProgram.OP_MULTI_FMA) {
      int base = SymbolProgram.dst(op) * h;
      for (int j = 0; j < h; j++) {
        c += Integer.bitCount(coefs[base + j] & 0xFF);
      }
    } else if (code == SymbolProgram.OP_SCALE) {
      c += Integer.bitCount(SymbolProgram.coef(op));
    }
    return c;
  }

  /** Base weight per opcode (see {@link #replayCost}). */
  private static final int[] WEIGHT = new int[16];

  static {
    java.util.Arrays.fill(WEIGHT, 2);
    WEIGHT[SymbolProgram.OP_ZERO] = 1;
    WEIGHT[SymbolProgram.OP_HDPC_STEP] = 5;
    WEIGHT[SymbolProgram.OP_HDPC_STEP0] = 5;
    WEIGHT[SymbolProgram.OP_SCALE] = 14;
    WEIGHT[SymbolProgram.OP_MULTI_FMA] = 14;
    WEIGHT[SymbolProgram.OP_FMA] = 40;
    WEIGHT[SymbolProgram.OP_MULCOPY] = 40;
  }

  /**
   * Whether the dense route is cheaper: {@code outputs} outputs combined from {@code inputs} inputs
   * each, against replaying the program over symbols of {@code symbolSize} bytes plus {@code
   * replayExtra} (the replay route's own output work, same unit as {@link #replayCost}). Fixed
   * costs that do not scale with T (dispatch per operation, the per-output set-up, the form's
   * buffer) are counted in bytes of symbol they are worth, so tiny symbols keep the replay.
   */
  static boolean cheaper(SymbolProgram p, int inputs, int outputs, int symbolSize, long replayExtra) {
    double t = Math.max(1, symbolSize);
    double perOutput = 14 + 4.0 * inputs + 2.0 * (COMBINE_FIXED_BYTES + 16.0 * inputs) / t;
    double dispatch = 2.0 * p.ops.length * OP_OVERHEAD_BYTES / t;
    // The outputs alone cost more than the replay can: no pass over the operations needed (a
    // pass costs about 1-2 ns per operation, 20 us for K = 820, where the plan takes 500 us).
    if (outputs * perOutput >= replayUpperBound(p) + replayExtra + dispatch) {
      return false;
    }
    long replay = replayCost(p);
    double dense = replay * (inputs / t) + dispatch + 2.0 * FORM_FIXED_BYTES / t
        + outputs * perOutput;
    return dense < replay + replayExtra + dispatch;
  }

  /**
   * Runs the program over unit vectors: returns the address of row 0 of M; the coefficient row of
   * slot s (over the {@code inputs} inputs) is at {@code base + s * inputs}. The memory (one buffer
   * of (workspace slots + inputs) x inputs bytes) is taken from {@code mem} and added to {@code
   * owned}, which the caller gives back.
   */
  static long compute(WorkspacePool.Source mem, SymbolProgram p, int inputs, List<ArrowBuf> owned) {
    int slots = p.workspaceSlots();
    long wsBytes = (long) slots * inputs;
    ArrowBuf b = mem.take(Math.max(1, wsBytes + (long) inputs * inputs));
    owned.add(b);
    long base = b.memoryAddress();
    long id = base + wsBytes;
    SymbolOps.zero(id, inputs * inputs);
    for (int j = 0; j < inputs; j++) {
      SymbolOps.U.putByte(id + (long) j * inputs + j, (byte) 1);
    }
    SymbolOps.run(p, new Tiling(base, slots, inputs), id, inputs);
    return base;
  }

  /** dst[0..n) ^= row (n octets at {@code row}), on a heap array of coefficients. */
  static void xorRow(long row, byte[] dst, int n) {
    for (int j = 0; j < n; j++) {
      dst[j] ^= SymbolOps.U.getByte(row + j);
    }
  }

  private static final ThreadLocal<Combiner> COMBINERS = ThreadLocal.withInitial(Combiner::new);

  /** This thread's combiner (reset it before use). */
  static Combiner combiner() {
    return COMBINERS.get();
  }

  /**
   * Builds one output as sum_j c_j * input_j: {@link #reset}, {@link #add} each input with its
   * coefficient, then {@link #writeTo}. Per-thread scratch (the coefficient and address lists grow
   * on demand and are reused); not thread safe.
   */
  static final class Combiner {
    /** Per bit b, the addresses of the inputs whose coefficient has bit b set. */
    private long[][] lists = new long[8][16];
    private final int[] counts = new int[8];
    /** Coefficient scratch for callers (see {@link #coefs}). */
    private byte[] coefs = new byte[64];
    private int reads;

    void reset() {
      java.util.Arrays.fill(counts, 0);
      reads = 0;
    }

    /** A zeroed array of at least n coefficients for the caller to fill. */
    byte[] coefs(int n) {
      if (coefs.length < n) {
        coefs = new byte[Math.max(n, 2 * coefs.length)];
      }
      java.util.Arrays.fill(coefs, 0, n, (byte) 0);
      return coefs;
    }

    /** Adds c * (the symbol at addr); c = 0 is skipped. */
    void add(long addr, int c) {
      c &= 0xFF;
      while (c != 0) {
        int b = Integer.numberOfTrailingZeros(c);
        c &= c - 1;
        long[] l = lists[b];
        if (counts[b] == l.length) {
          lists[b] = l = java.util.Arrays.copyOf(l, 2 * l.length);
        }
        l[counts[b]++] = addr;
        reads++;
      }
    }

    /** Cost of the combination as added so far, in the unit of {@link DenseForm#replayCost}. */
    long cost() {
      int top = 7;
      while (top >= 0 && counts[top] == 0) {
        top--;
      }
      return 2L * Math.max(0, top) + reads;
    }

    /** Writes the combination to {@code len} bytes at {@code dst} (which no input may overlap). */
    void writeTo(long dst, int len) {
      int top = 7;
      while (top >= 0 && counts[top] == 0) {
        top--;
      }
      if (top < 0) {
        SymbolOps.zero(dst, len);
        return;
      }
      for (int off = 0; off < len; off += CHUNK) {
        int n = Math.min(CHUNK, len - off);
        long d = dst + off;
        for (int b = top; b >= 0; b--) {
          long[] l = lists[b];
          int cnt = counts[b];
          int i = 0;
          if (b == top) {
            int g = Math.min(4, cnt);
            set(d, l, off, g, n);
            i = g;
          } else {
            int g = Math.min(3, cnt);
            xtimeXor(d, l, off, g, n);
            i = g;
          }
          for (; i < cnt; i += 4) {
            xorIn(d, l, i, off, Math.min(4, cnt - i), n);
          }
        }
      }
    }

    /** d = XOR of the g (1..4) inputs l[0..g) (+ off), n bytes. */
    private static void set(long d, long[] l, long off, int g, int n) {
      long a0 = l[0] + off;
      switch (g) {
        case 1:
          SymbolOps.copy(a0, d, n);
          return;
        case 2:
          SymbolOps.xor3(a0, l[1] + off, d, n);
          return;
        default:
          SymbolOps.copy(a0, d, n);
          xorIn(d, l, 1, off, g - 1, n);
      }
    }

    /** d = alpha * d ^ XOR of the g (0..3) inputs l[0..g) (+ off), n bytes. */
    private static void xtimeXor(long d, long[] l, long off, int g, int n) {
      sun.misc.Unsafe u = SymbolOps.U;
      int i = 0;
      switch (g) {
        case 0:
          for (; i + 8 <= n; i += 8) {
            u.putLong(d + i, Gf256.xtimeWord(u.getLong(d + i)));
          }
          break;
        case 1: {
          long a0 = l[0] + off;
          for (; i + 8 <= n; i += 8) {
            u.putLong(d + i, Gf256.xtimeWord(u.getLong(d + i)) ^ u.getLong(a0 + i));
          }
          break;
        }
        case 2: {
          long a0 = l[0] + off;
          long a1 = l[1] + off;
          for (; i + 8 <= n; i += 8) {
            u.putLong(d + i,
                Gf256.xtimeWord(u.getLong(d + i)) ^ u.getLong(a0 + i) ^ u.getLong(a1 + i));
          }
          break;
        }
        default: {
          long a0 = l[0] + off;
          long a1 = l[1] + off;
          long a2 = l[2] + off;
          for (; i + 8 <= n; i += 8) {
            u.putLong(d + i, Gf256.xtimeWord(u.getLong(d + i)) ^ u.getLong(a0 + i)
                ^ u.getLong(a1 + i) ^ u.getLong(a2 + i));
          }
          break;
        }
      }
      for (; i < n; i++) {
        int v = u.getByte(d + i) & 0xFF;
        v = ((v << 1) ^ ((v >>> 7) * 0x11D)) & 0xFF;
        for (int q = 0; q < g; q++) {
          v ^= u.getByte(l[q] + off + i);
        }
        u.putByte(d + i, (byte) v);
      }
    }

    /** d ^= XOR of the g (1..4) inputs l[s..s+g) (+ off), n bytes. */
    private static void xorIn(long d, long[] l, int s, long off, int g, int n) {
      sun.misc.Unsafe u = SymbolOps.U;
      long a0 = l[s] + off;
      int i = 0;
      switch (g) {
        case 1:
          SymbolOps.xor(a0, d, n);
          return;
        case 2: {
          long a1 = l[s + 1] + off;
          for (; i + 8 <= n; i += 8) {
            u.putLong(d + i, u.getLong(d + i) ^ u.getLong(a0 + i) ^ u.getLong(a1 + i));
          }
          break;
        }
        case 3: {
          long a1 = l[s + 1] + off;
          long a2 = l[s + 2] + off;
          for (; i + 8 <= n; i += 8) {
            u.putLong(d + i,
                u.getLong(d + i) ^ u.getLong(a0 + i) ^ u.getLong(a1 + i) ^ u.getLong(a2 + i));
          }
          break;
        }
        default: {
          long a1 = l[s + 1] + off;
          long a2 = l[s + 2] + off;
          long a3 = l[s + 3] + off;
          for (; i + 8 <= n; i += 8) {
            u.putLong(d + i, u.getLong(d + i) ^ u.getLong(a0 + i) ^ u.getLong(a1 + i)
                ^ u.getLong(a2 + i) ^ u.getLong(a3 + i));
          }
          break;
        }
      }
      for (; i < n; i++) {
        int v = u.getByte(d + i);
        for (int q = 0; q < g; q++) {
          v ^= u.getByte(l[s + q] + off + i);
        }
        u.putByte(d + i, (byte) v);
      }
    }
  }
}
