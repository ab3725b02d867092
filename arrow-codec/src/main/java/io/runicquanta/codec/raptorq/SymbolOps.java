package io.runicquanta.codec.raptorq;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Symbol arithmetic on off-heap memory addresses (RFC 6330 section 5.7.5) and the interpreter of
 * {@link SymbolProgram}s. XOR runs over whole 8-byte words with {@code Unsafe.getLong/putLong}
 * (unaligned access is fine on the platforms Arrow supports); GF(256) products process 8 octets per
 * step: the packed xtime for alpha, and for other coefficients the "planes" of {@link #multiFma}
 * (x, alpha x, ..., alpha^7 x built by xtime in L1-sized chunks, then the planes a coefficient's bits
 * select XORed together, RFC 6330 section 5.7.2); the per-octet product table remains only for the
 * single multiply-adds the plans rarely contain. No symbol byte passes through the Java heap.
 * Stateless and thread safe; callers guarantee that addresses are valid for the lengths given.
 */
final class SymbolOps {
  private SymbolOps() {}

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

  private static final long BYTE_BASE = Unsafe.ARRAY_BYTE_BASE_OFFSET;

  /** dst ^= src, len bytes. */
  static void xor(long src, long dst, int len) {
    int i = 0;
    for (; i + 32 <= len; i += 32) {
      U.putLong(dst + i, U.getLong(dst + i) ^ U.getLong(src + i));
      U.putLong(dst + i + 8, U.getLong(dst + i + 8) ^ U.getLong(src + i + 8));
      U.putLong(dst + i + 16, U.getLong(dst + i + 16) ^ U.getLong(src + i + 16));
      U.putLong(dst + i + 24, U.getLong(dst + i + 24) ^ U.getLong(src + i + 24));
    }
    for (; i + 8 <= len; i += 8) {
      U.putLong(dst + i, U.getLong(dst + i) ^ U.getLong(src + i));
    }
    for (; i < len; i++) {
      U.putByte(dst + i, (byte) (U.getByte(dst + i) ^ U.getByte(src + i)));
    }
  }

  /** dst = a ^ b, len bytes. */
  static void xor3(long a, long b, long dst, int len) {
    int i = 0;
    for (; i + 32 <= len; i += 32) {
      U.putLong(dst + i, U.getLong(a + i) ^ U.getLong(b + i));
      U.putLong(dst + i + 8, U.getLong(a + i + 8) ^ U.getLong(b + i + 8));
      U.putLong(dst + i + 16, U.getLong(a + i + 16) ^ U.getLong(b + i + 16));
      U.putLong(dst + i + 24, U.getLong(a + i + 24) ^ U.getLong(b + i + 24));
    }
    for (; i + 8 <= len; i += 8) {
      U.putLong(dst + i, U.getLong(a + i) ^ U.getLong(b + i));
    }
    for (; i < len; i++) {
      U.putByte(dst + i, (byte) (U.getByte(a + i) ^ U.getByte(b + i)));
    }
  }

  static void copy(long src, long dst, long len) {
    U.copyMemory(src, dst, len);
  }

  static void zero(long dst, int len) {
    U.setMemory(dst, len, (byte) 0);
  }

  private static long mulWordTable(long v, byte[] t, int o) {
    long base = BYTE_BASE + o;
    return (U.getByte(t, base + (v & 0xFF)) & 0xFFL)
        | (U.getByte(t, base + ((v >>> 8) & 0xFF)) & 0xFFL) << 8
        | (U.getByte(t, base + ((v >>> 16) & 0xFF)) & 0xFFL) << 16
        | (U.getByte(t, base + ((v >>> 24) & 0xFF)) & 0xFFL) << 24
        | (U.getByte(t, base + ((v >>> 32) & 0xFF)) & 0xFFL) << 32
        | (U.getByte(t, base + ((v >>> 40) & 0xFF)) & 0xFFL) << 40
        | (U.getByte(t, base + ((v >>> 48) & 0xFF)) & 0xFFL) << 48
        | (U.getByte(t, base + (v >>> 56)) & 0xFFL) << 56;
  }

  /** dst ^= c * src (c != 0, 1). */
  static void fma(int c, long src, long dst, int len) {
    byte[] t = Gf256.mulTable();
    int o = Gf256.mulTableOffset(c);
    int i = 0;
    for (; i + 8 <= len; i += 8) {
      U.putLong(dst + i, U.getLong(dst + i) ^ mulWordTable(U.getLong(src + i), t, o));
    }
    for (; i < len; i++) {
      U.putByte(dst + i, (byte) (U.getByte(dst + i) ^ t[o + (U.getByte(src + i) & 0xFF)]));
    }
  }

  /** dst = c * src. */
  static void mulCopy(int c, long src, long dst, int len) {
    byte[] t = Gf256.mulTable();
    int o = Gf256.mulTableOffset(c);
    int i = 0;
    for (; i + 8 <= len; i += 8) {
      U.putLong(dst + i, mulWordTable(U.getLong(src + i), t, o));
    }
    for (; i < len; i++) {
      U.putByte(dst + i, t[o + (U.getByte(src + i) & 0xFF)]);
    }
  }

  /**
   * dst = c * dst, with the planes of {@link #multiFma} (scratch of 7 x min(len, PLANE_CHUNK)
   * bytes at {@code planes}) instead of a table lookup per octet; {@code addr} and {@code x} are
   * scratch of {@link #SUM_MAX} addresses each.
   */
  static void scale(int c, long dst, long planes, long[] addr, long[] x, int len) {
    if (c == 2 || c == 1) {
      scale(c, dst, len);
      return;
    }
    int pitch = Math.min(PLANE_CHUNK, len);
    for (int off = 0; off < len; off += pitch) {
      int n = Math.min(pitch, len - off);
      long d = dst + off;
      addr[0] = d;
      for (int b = 1; b < 8; b++) {
        addr[b] = planes + (long) (b - 1) * pitch;
      }
      buildPlanes(d, addr, n);
      if ((c & 1) != 0) {
        combinePlanes(c & ~1, addr, x, d, n); // d = d ^ (other terms)
      } else {
        int low = Integer.numberOfTrailingZeros(c);
        copy(addr[low], d, n);
        if ((c & ~(1 << low)) != 0) {
          combinePlanes(c & ~(1 << low), addr, x, d, n);
        }
      }
    }
  }

  /** dst = c * dst. */
  static void scale(int c, long dst, int len) {
    int i = 0;
    if (c == 2) {
      for (; i + 8 <= len; i += 8) {
        U.putLong(dst + i, Gf256.xtimeWord(U.getLong(dst + i)));
      }
      for (; i < len; i++) {
        int v = U.getByte(dst + i) & 0xFF;
        U.putByte(dst + i, (byte) ((v << 1) ^ ((v >>> 7) * 0x11D)));
      }
      return;
    }
    mulCopy(c, dst, dst, len);
  }

  /**
   * Runs a program over a tiled workspace: every operation is element-wise (octet i of a result
   * depends only on octet i of its operands), so the whole program is replayed tile by tile, each
   * tile holding the same byte range of every slot, contiguous and small enough to stay in cache.
   * The workspace must have {@link SymbolProgram#workspaceSlots()} slots (the program's slots plus
   * 7 scratch planes of the fused multiply-adds).
   *
   * @param in address of input symbol 0 (inputs are {@code inStride} apart, untiled)
   */
  static void run(SymbolProgram prog, Tiling ws, long in, long inStride) {
    long[] planeAddr = new long[SUM_MAX];
    long[] sumAddr = new long[SUM_MAX];
    for (int i = 0; i < ws.tiles; i++) {
      int w = ws.width(i);
      runStripe(prog, ws.tileBase(i), w, w, in + ws.offset(i), inStride, planeAddr, sumAddr);
    }
  }

  private static void runStripe(
      SymbolProgram prog, long ws, long stride, int len, long in, long inStride,
      long[] planeAddr, long[] sumAddr) {
    int nOps = prog.ops.length;
    for (int q = 0; q < nOps; ) {
      q = step(prog, q, ws, stride, len, in, inStride, planeAddr, sumAddr);
    }
  }

  /**
   * Runs operation q of the program (two for a pair of HDPC steps on the same G) and returns the
   * index of the next. One call per operation, not one loop over the whole program, on purpose:
   * a program is replayed once per block (per tile), so a method holding the loop is invoked once
   * per encode or decode, and HotSpot's tier-4 thresholds for it (invocations; scaled up with the
   * length of the C2 queue, which the plan builder's many compilations fill during warm-up) were
   * reached seconds later in some JVMs than in others: the whole replay then ran in C1 code with
   * full profiling through the timed runs (arrow-codec README, "JIT timeline"). Invoked once per
   * operation, the dispatch reaches C2 as early as the kernels it calls.
   */
  static int step(
      SymbolProgram prog, int q, long ws, long stride, int len, long in, long inStride,
      long[] planeAddr, long[] sumAddr) {
    long[] ops = prog.ops;
    long op = ops[q];
    int code = SymbolProgram.opcode(op);
    long d = ws + SymbolProgram.dst(op) * stride;
    long hBase = ws + prog.hdpcBase * stride;
    if (code == SymbolProgram.OP_HDPC_STEP && q + 1 < ops.length
        && SymbolProgram.opcode(ops[q + 1]) == SymbolProgram.OP_HDPC_STEP
        && SymbolProgram.dst(ops[q + 1]) == SymbolProgram.dst(op)) {
      // Two consecutive steps of the recurrence in one pass over G (both sources in flight).
      long op2 = ops[q + 1];
      hdpcStep2(d, ws + SymbolProgram.src(op) * stride,
          hBase + (SymbolProgram.coef(op) >>> 4) * stride,
          hBase + (SymbolProgram.coef(op) & 15) * stride,
          ws + SymbolProgram.src(op2) * stride,
          hBase + (SymbolProgram.coef(op2) >>> 4) * stride,
          hBase + (SymbolProgram.coef(op2) & 15) * stride, len);
      return q + 2;
    }
    int ltBase = prog.hdpcBase + prog.hdpcCount;
    switch (code) {
      case SymbolProgram.OP_XOR:
        xor(ws + SymbolProgram.src(op) * stride, d, len);
        break;
      case SymbolProgram.OP_COPY:
        copy(ws + SymbolProgram.src(op) * stride, d, len);
        break;
      case SymbolProgram.OP_FMA:
        fma(SymbolProgram.coef(op), ws + SymbolProgram.src(op) * stride, d, len);
        break;
      case SymbolProgram.OP_MULCOPY:
        mulCopy(SymbolProgram.coef(op), ws + SymbolProgram.src(op) * stride, d, len);
        break;
      case SymbolProgram.OP_SCALE:
        scale(SymbolProgram.coef(op), d, ws + prog.slots * stride, planeAddr, sumAddr, len);
        break;
      case SymbolProgram.OP_LOAD:
        copy(in + SymbolProgram.src(op) * inStride, d, len);
        break;
      case SymbolProgram.OP_XOR_IN:
        xor3(in + (SymbolProgram.dst(op) - ltBase) * inStride,
            ws + SymbolProgram.src(op) * stride, d, len);
        break;
      case SymbolProgram.OP_ZERO:
        zero(d, len);
        break;
      case SymbolProgram.OP_HDPC_STEP:
        hdpcStep(d, ws + SymbolProgram.src(op) * stride,
            hBase + (SymbolProgram.coef(op) >>> 4) * stride,
            hBase + (SymbolProgram.coef(op) & 15) * stride, len);
        break;
      case SymbolProgram.OP_HDPC_STEP0:
        hdpcStep0(d, hBase + (SymbolProgram.coef(op) >>> 4) * stride,
            hBase + (SymbolProgram.coef(op) & 15) * stride, len);
        break;
      case SymbolProgram.OP_XOR_MANY: {
        int mode = SymbolProgram.coef(op);
        long first = mode == SymbolProgram.SUM_ACC ? d
            : mode == SymbolProgram.SUM_IN
                ? in + (SymbolProgram.dst(op) - ltBase) * inStride : 0;
        sumList(d, first, ws, stride, prog.lists, SymbolProgram.src(op), planeAddr, len);
        break;
      }
      case SymbolProgram.OP_MULTI_FMA:
        multiFma(ws + SymbolProgram.src(op) * stride, hBase, stride,
            ws + prog.slots * stride, prog.coefs, SymbolProgram.dst(op) * prog.hdpcCount,
            prog.hdpcCount, planeAddr, sumAddr, len);
        break;
      default:
        throw new IllegalStateException("bad opcode " + code);
    }
    return q + 1;
  }

  /** Most operands one pass of {@link #sum} reads. */
  static final int SUM_MAX = 8;

  /**
   * d = first ^ (the slots listed at lists[off + 1 .. off + n], n = lists[off]), first = 0 for
   * none (it may be d itself: d ^= the slots). Up to {@link #SUM_MAX} operands per pass over d, so
   * a run of n XORs into d costs about n / 7 loads and stores of d instead of n.
   */
  static void sumList(
      long d, long first, long ws, long stride, int[] lists, int off, long[] x, int len) {
    sumSlots(d, first, ws, stride, lists, off + 1, off + 1 + lists[off], x, len);
  }

  /**
   * d = first ^ (the XOR of slots[from .. to-1], slot s at base + s * stride), first = 0 for none
   * (it may be d itself); no operand at all zeroes d. Up to {@link #SUM_MAX} operands per pass over
   * d; {@code x} is scratch of SUM_MAX addresses.
   */
  static void sumSlots(
      long d, long first, long base, long stride, int[] slots, int from, int to, long[] x, int len) {
    int c = 0;
    if (first != 0) {
      x[c++] = first;
    }
    int k = from;
    do {
      while (c < SUM_MAX && k < to) {
        x[c++] = base + slots[k++] * stride;
      }
      sum(d, x, c, len);
      x[0] = d;
      c = 1;
    } while (k < to);
  }

  /**
   * d = x[0] ^ x[1] ^ ... ^ x[cnt - 1], len bytes, cnt in 0..{@link #SUM_MAX}; any operand may be
   * d itself (each word is read from every operand before it is written).
   */
  static void sum(long d, long[] x, int cnt, int len) {
    long x0 = cnt > 0 ? x[0] : 0;
    long x1 = cnt > 1 ? x[1] : 0;
    long x2 = cnt > 2 ? x[2] : 0;
    long x3 = cnt > 3 ? x[3] : 0;
    long x4 = cnt > 4 ? x[4] : 0;
    long x5 = cnt > 5 ? x[5] : 0;
    long x6 = cnt > 6 ? x[6] : 0;
    long x7 = cnt > 7 ? x[7] : 0;
    int i = 0;
    int words = len & ~7;
    switch (cnt) {
      case 0:
        zero(d, len);
        return;
      case 1:
        if (x0 != d) {
          copy(x0, d, len);
        }
        return;
      case 2:
        for (; i < words; i += 8) {
          U.putLong(d + i, U.getLong(x0 + i) ^ U.getLong(x1 + i));
        }
        break;
      case 3:
        for (; i < words; i += 8) {
          U.putLong(d + i, U.getLong(x0 + i) ^ U.getLong(x1 + i) ^ U.getLong(x2 + i));
        }
        break;
      case 4:
        for (; i < words; i += 8) {
          U.putLong(d + i, U.getLong(x0 + i) ^ U.getLong(x1 + i) ^ U.getLong(x2 + i)
              ^ U.getLong(x3 + i));
        }
        break;
      case 5:
        for (; i < words; i += 8) {
          U.putLong(d + i, U.getLong(x0 + i) ^ U.getLong(x1 + i) ^ U.getLong(x2 + i)
              ^ U.getLong(x3 + i) ^ U.getLong(x4 + i));
        }
        break;
      case 6:
        for (; i < words; i += 8) {
          U.putLong(d + i, U.getLong(x0 + i) ^ U.getLong(x1 + i) ^ U.getLong(x2 + i)
              ^ U.getLong(x3 + i) ^ U.getLong(x4 + i) ^ U.getLong(x5 + i));
        }
        break;
      case 7:
        for (; i < words; i += 8) {
          U.putLong(d + i, U.getLong(x0 + i) ^ U.getLong(x1 + i) ^ U.getLong(x2 + i)
              ^ U.getLong(x3 + i) ^ U.getLong(x4 + i) ^ U.getLong(x5 + i) ^ U.getLong(x6 + i));
        }
        break;
      default:
        for (; i < words; i += 8) {
          U.putLong(d + i, U.getLong(x0 + i) ^ U.getLong(x1 + i) ^ U.getLong(x2 + i)
              ^ U.getLong(x3 + i) ^ U.getLong(x4 + i) ^ U.getLong(x5 + i) ^ U.getLong(x6 + i)
              ^ U.getLong(x7 + i));
        }
        break;
    }
    for (; i < len; i++) {
      int v = 0;
      for (int j = 0; j < cnt; j++) {
        v ^= U.getByte(x[j] + i);
      }
      U.putByte(d + i, (byte) v);
    }
  }

  /** Bytes of the source a fused multiply-add or scale processes at a time (planes stay in L1). */
  static final int PLANE_CHUNK = 2048;

  /**
   * For j in 0..h-1: slot j (at hBase + j * stride) ^= coefs[co + j] * src. The products of the
   * source with alpha^1..alpha^7 are formed by packed xtime into scratch ("planes", plane 0 is the
   * source itself); each destination then takes the XOR of the planes its coefficient's bits
   * select, word by word: no table lookup per octet, and the source is multiplied once for all H
   * destinations. The work goes in chunks of {@link #PLANE_CHUNK} bytes, the seven planes of a
   * chunk packed side by side at {@code planes}, so that they are written and read again while in
   * the L1 cache (whole-symbol planes of 64 KiB spilled to L2 and beyond).
   */
  static void multiFma(
      long src, long hBase, long stride, long planes, byte[] coefs, int co, int h, long[] addr,
      long[] x, int len) {
    int pitch = Math.min(PLANE_CHUNK, len);
    for (int off = 0; off < len; off += pitch) {
      int n = Math.min(pitch, len - off);
      long s0 = src + off;
      addr[0] = s0;
      for (int b = 1; b < 8; b++) {
        addr[b] = planes + (long) (b - 1) * pitch;
      }
      buildPlanes(s0, addr, n);
      for (int j = 0; j < h; j++) {
        int c = coefs[co + j] & 0xFF;
        if (c != 0) {
          combinePlanes(c, addr, x, hBase + j * stride + off, n);
        }
      }
    }
  }

  /** addr[b] = alpha^b * addr[0] for b in 1..7, n bytes. */
  private static void buildPlanes(long s0, long[] addr, int n) {
    long p1 = addr[1];
    long p2 = addr[2];
    long p3 = addr[3];
    long p4 = addr[4];
    long p5 = addr[5];
    long p6 = addr[6];
    long p7 = addr[7];
    int i = 0;
    // Four words at a time: four independent chains of seven xtimes keep the core busy (one chain
    // alone is latency bound).
    for (; i + 32 <= n; i += 32) {
      long x = U.getLong(s0 + i);
      long y = U.getLong(s0 + i + 8);
      long z = U.getLong(s0 + i + 16);
      long w = U.getLong(s0 + i + 24);
      x = Gf256.xtimeWord(x);
      y = Gf256.xtimeWord(y);
      z = Gf256.xtimeWord(z);
      w = Gf256.xtimeWord(w);
      U.putLong(p1 + i, x);
      U.putLong(p1 + i + 8, y);
      U.putLong(p1 + i + 16, z);
      U.putLong(p1 + i + 24, w);
      x = Gf256.xtimeWord(x);
      y = Gf256.xtimeWord(y);
      z = Gf256.xtimeWord(z);
      w = Gf256.xtimeWord(w);
      U.putLong(p2 + i, x);
      U.putLong(p2 + i + 8, y);
      U.putLong(p2 + i + 16, z);
      U.putLong(p2 + i + 24, w);
      x = Gf256.xtimeWord(x);
      y = Gf256.xtimeWord(y);
      z = Gf256.xtimeWord(z);
      w = Gf256.xtimeWord(w);
      U.putLong(p3 + i, x);
      U.putLong(p3 + i + 8, y);
      U.putLong(p3 + i + 16, z);
      U.putLong(p3 + i + 24, w);
      x = Gf256.xtimeWord(x);
      y = Gf256.xtimeWord(y);
      z = Gf256.xtimeWord(z);
      w = Gf256.xtimeWord(w);
      U.putLong(p4 + i, x);
      U.putLong(p4 + i + 8, y);
      U.putLong(p4 + i + 16, z);
      U.putLong(p4 + i + 24, w);
      x = Gf256.xtimeWord(x);
      y = Gf256.xtimeWord(y);
      z = Gf256.xtimeWord(z);
      w = Gf256.xtimeWord(w);
      U.putLong(p5 + i, x);
      U.putLong(p5 + i + 8, y);
      U.putLong(p5 + i + 16, z);
      U.putLong(p5 + i + 24, w);
      x = Gf256.xtimeWord(x);
      y = Gf256.xtimeWord(y);
      z = Gf256.xtimeWord(z);
      w = Gf256.xtimeWord(w);
      U.putLong(p6 + i, x);
      U.putLong(p6 + i + 8, y);
      U.putLong(p6 + i + 16, z);
      U.putLong(p6 + i + 24, w);
      x = Gf256.xtimeWord(x);
      y = Gf256.xtimeWord(y);
      z = Gf256.xtimeWord(z);
      w = Gf256.xtimeWord(w);
      U.putLong(p7 + i, x);
      U.putLong(p7 + i + 8, y);
      U.putLong(p7 + i + 16, z);
      U.putLong(p7 + i + 24, w);
    }
    for (; i + 8 <= n; i += 8) {
      long x = Gf256.xtimeWord(U.getLong(s0 + i));
      U.putLong(p1 + i, x);
      x = Gf256.xtimeWord(x);
      U.putLong(p2 + i, x);
      x = Gf256.xtimeWord(x);
      U.putLong(p3 + i, x);
      x = Gf256.xtimeWord(x);
      U.putLong(p4 + i, x);
      x = Gf256.xtimeWord(x);
      U.putLong(p5 + i, x);
      x = Gf256.xtimeWord(x);
      U.putLong(p6 + i, x);
      x = Gf256.xtimeWord(x);
      U.putLong(p7 + i, x);
    }
    for (; i < n; i++) {
      int x = U.getByte(s0 + i) & 0xFF;
      for (int b = 1; b < 8; b++) {
        x = ((x << 1) ^ ((x >>> 7) * 0x11D)) & 0xFF;
        U.putByte(addr[b] + i, (byte) x);
      }
    }
  }

  /**
   * d ^= the XOR of the planes (addr[b]) selected by the bits b of c, n bytes: one pass over d for
   * up to 7 planes ({@link #sum} with d as its first operand; x is scratch of {@link #SUM_MAX}
   * addresses), two for c = 255. (Before, a coefficient with more than four bits set took one pass
   * for four planes and then one more pass over d per further plane: 0.55 extra passes per
   * product on average over all coefficients.)
   */
  private static void combinePlanes(int c, long[] addr, long[] x, long d, int n) {
    if (Integer.bitCount(c) == 1) {
      xor(addr[Integer.numberOfTrailingZeros(c)], d, n);
      return;
    }
    int cnt = 0;
    x[cnt++] = d;
    for (int b = 0; b < 8; b++) {
      if (((c >>> b) & 1) != 0) {
        if (cnt == SUM_MAX) {
          sum(d, x, cnt, n);
          cnt = 1; // x[0] is still d
        }
        x[cnt++] = addr[b];
      }
    }
    sum(d, x, cnt, n);
  }

  /** g = alpha * g + z; a1 ^= g; a2 ^= g. */
  static void hdpcStep(long g, long z, long a1, long a2, int len) {
    int i = 0;
    for (; i + 8 <= len; i += 8) {
      long v = Gf256.xtimeWord(U.getLong(g + i)) ^ U.getLong(z + i);
      U.putLong(g + i, v);
      U.putLong(a1 + i, U.getLong(a1 + i) ^ v);
      U.putLong(a2 + i, U.getLong(a2 + i) ^ v);
    }
    for (; i < len; i++) {
      int b = U.getByte(g + i) & 0xFF;
      int v = ((b << 1) ^ ((b >>> 7) * 0x11D) ^ U.getByte(z + i)) & 0xFF;
      U.putByte(g + i, (byte) v);
      U.putByte(a1 + i, (byte) (U.getByte(a1 + i) ^ v));
      U.putByte(a2 + i, (byte) (U.getByte(a2 + i) ^ v));
    }
  }

  /**
   * Two HDPC steps: g = alpha * g + z; a1 ^= g; a2 ^= g; then g = alpha * g + y; b1 ^= g; b2 ^= g.
   * The accumulators of the two steps may coincide (each is read after the previous write).
   */
  static void hdpcStep2(long g, long z, long a1, long a2, long y, long b1, long b2, int len) {
    int i = 0;
    for (; i + 8 <= len; i += 8) {
      long v = Gf256.xtimeWord(U.getLong(g + i)) ^ U.getLong(z + i);
      long w = Gf256.xtimeWord(v) ^ U.getLong(y + i);
      U.putLong(g + i, w);
      U.putLong(a1 + i, U.getLong(a1 + i) ^ v);
      U.putLong(a2 + i, U.getLong(a2 + i) ^ v);
      U.putLong(b1 + i, U.getLong(b1 + i) ^ w);
      U.putLong(b2 + i, U.getLong(b2 + i) ^ w);
    }
    if (i < len) {
      hdpcStep(g + i, z + i, a1 + i, a2 + i, len - i);
      hdpcStep(g + i, y + i, b1 + i, b2 + i, len - i);
    }
  }

  /** g = alpha * g; a1 ^= g; a2 ^= g. */
  static void hdpcStep0(long g, long a1, long a2, int len) {
    int i = 0;
    for (; i + 8 <= len; i += 8) {
      long v = Gf256.xtimeWord(U.getLong(g + i));
      U.putLong(g + i, v);
      U.putLong(a1 + i, U.getLong(a1 + i) ^ v);
      U.putLong(a2 + i, U.getLong(a2 + i) ^ v);
    }
    for (; i < len; i++) {
      int b = U.getByte(g + i) & 0xFF;
      int v = ((b << 1) ^ ((b >>> 7) * 0x11D)) & 0xFF;
      U.putByte(g + i, (byte) v);
      U.putByte(a1 + i, (byte) (U.getByte(a1 + i) ^ v));
      U.putByte(a2 + i, (byte) (U.getByte(a2 + i) ^ v));
    }
  }
}
