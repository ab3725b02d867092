package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.runicquanta.testing.AllocatorExtension;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The plane-based GF(256) kernels ({@code SymbolOps.multiFma} and {@code SymbolOps.scale}) against
 * the octet product table, for every coefficient and for lengths below, at and above one plane
 * chunk, not multiples of 8: each of the 255 coefficients selects a different set of planes (one to
 * eight of them, so both one and two passes over the destination are exercised).
 */
@ExtendWith(AllocatorExtension.class)
class SymbolOpsGfTest {

  @Test
  void multiFmaAndScaleMatchTheProductTable(BufferAllocator alloc) {
    int h = 5;
    for (int len : new int[] {1, 13, 64, 2048, 2051, 5000}) {
      long slot = len;
      try (ArrowBuf src = alloc.buffer(len);
          ArrowBuf hd = alloc.buffer(h * slot);
          ArrowBuf planes = alloc.buffer(7L * Math.min(len, SymbolOps.PLANE_CHUNK))) {
        long x = 0x243F6A8885A308D3L + len;
        byte[] s = new byte[len];
        for (int i = 0; i < len; i++) {
          x = x * 6364136223846793005L + 1442695040888963407L;
          s[i] = (byte) (x >>> 56);
          src.setByte(i, s[i]);
        }
        long[] a = new long[SymbolOps.SUM_MAX];
        long[] sc = new long[SymbolOps.SUM_MAX];
        for (int c0 = 0; c0 < 256; c0 += h) {
          byte[] coefs = new byte[h];
          byte[][] want = new byte[h][len];
          for (int j = 0; j < h; j++) {
            int c = (c0 + j) & 0xFF;
            coefs[j] = (byte) c;
            for (int i = 0; i < len; i++) {
              byte d0 = (byte) (i * 31 + j);
              hd.setByte(j * slot + i, d0);
              want[j][i] = (byte) (d0 ^ Gf256.mul(c, s[i] & 0xFF));
            }
          }
          SymbolOps.multiFma(src.memoryAddress(), hd.memoryAddress(), slot,
              planes.memoryAddress(), coefs, 0, h, a, sc, len);
          for (int j = 0; j < h; j++) {
            for (int i = 0; i < len; i++) {
              assertEquals(want[j][i], hd.getByte(j * slot + i),
                  "multiFma c=" + (coefs[j] & 0xFF) + " len=" + len + " octet " + i);
            }
          }
        }
        for (int c = 1; c < 256; c++) {
          for (int i = 0; i < len; i++) {
            hd.setByte(i, s[i]);
          }
          SymbolOps.scale(c, hd.memoryAddress(), planes.memoryAddress(), a, sc, len);
          for (int i = 0; i < len; i++) {
            assertEquals((byte) Gf256.mul(c, s[i] & 0xFF), hd.getByte(i),
                "scale c=" + c + " len=" + len + " octet " + i);
          }
        }
      }
    }
  }
}
