package io.runicquanta.codec.raptorq;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Symbol arithmetic on off-heap memory addresses (RFC 6330 section 5.7.5) and the interpreter of
 * {@link SymbolProgram}s. XOR runs over whole 8-byte words with {@code Unsafe.getLong/putLong}
 * (unaligned access is fine on the platforms Arrow supports); GF(256) products process 8 octets per
 * step, either with the packed xtime for alpha or with the coefficient's 256-entry row of the product
 * table. No symbol byte passes through the Java heap. Stateless and thread safe; callers guarantee
 * that addresses are valid for the lengths given.
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
   * Runs a program.
   *
   * @param ws address of slot 0 of the workspace (slots x stride bytes)
   * @param stride bytes between slots
   * @param len symbol length in bytes
   * @param in address of input symbol 0 (inputs are {@code inStride} apart)
   */
  static void run(SymbolProgram prog, long ws, long stride, int len, long in, long inStride) {
    long[] ops = prog.ops;
    for (long op : ops) {
      int code = SymbolProgram.opcode(op);
      long d = ws + SymbolProgram.dst(op) * stride;
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
          scale(SymbolProgram.coef(op), d, len);
          break;
        case SymbolProgram.OP_LOAD:
          copy(in + SymbolProgram.src(op) * inStride, d, len);
          break;
        case SymbolProgram.OP_ZERO:
          zero(d, len);
          break;
        default:
          throw new IllegalStateException("bad opcode " + code);
      }
    }
  }
}
