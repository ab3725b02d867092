package io.runicquanta.codec.raptorq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Rand, Deg, Tuple and the derived parameters (RFC 6330 5.3.3.3, 5.3.5, 5.6). */
class GeneratorsTest {

  private static long v(int[] t, int i) {
    return t[i] & 0xFFFFFFFFL;
  }

  @Test
  void randFollowsTheDefinition() {
    // y = 0, i = 0: x0..x3 = 0
    long r0 = v(Rfc6330Tables.V0, 0) ^ v(Rfc6330Tables.V1, 0) ^ v(Rfc6330Tables.V2, 0)
        ^ v(Rfc6330Tables.V3, 0);
    assertEquals(r0 % 1000, Generators.rand(0, 0, 1000));
    // y = 0x04030201, i = 5: x0 = 6, x1 = 7, x2 = 8, x3 = 9
    long r1 = v(Rfc6330Tables.V0, 6) ^ v(Rfc6330Tables.V1, 7) ^ v(Rfc6330Tables.V2, 8)
        ^ v(Rfc6330Tables.V3, 9);
    assertEquals(r1 % 997, Generators.rand(0x04030201L, 5, 997));
    // wrap-around mod 2^8 of each byte index: y = 0xFFFFFFFF, i = 2 -> all indices 1
    long r2 = v(Rfc6330Tables.V0, 1) ^ v(Rfc6330Tables.V1, 1) ^ v(Rfc6330Tables.V2, 1)
        ^ v(Rfc6330Tables.V3, 1);
    assertEquals(r2 % (1 << 20), Generators.rand(0xFFFFFFFFL, 2, 1 << 20));
    for (int m = 1; m < 300; m++) {
      int r = Generators.rand(m * 7919L, m & 0xFF, m);
      assertTrue(r >= 0 && r < m, "Rand in [0, m)");
    }
  }

  /**
   * PlanBuilder keeps each LT row in Tuple's order and sorts and cancels only when a row repeats a
   * column; this checks that no row does, for every K' of Table 2 (W and P1 prime; every source
   * ISI up to K' = 4000, 4000 of them above, and 50 repair ISIs), so the unsorted path is the one
   * the codec takes.
   */
  @Test
  void encIndicesNeverRepeatAColumn() {
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(820);
    int[] tup = new int[6];
    int[] out = new int[40];
    for (int row = 0; row < SystematicParams.tableRows(); row++) {
      SystematicParams p = SystematicParams.forSourceSymbols(
          Math.min(SystematicParams.MAX_SOURCE_SYMBOLS, Rfc6330Tables.K_PRIME[row]));
      assertTrue(java.math.BigInteger.valueOf(p.w()).isProbablePrime(30), "W prime: " + p);
      assertTrue(java.math.BigInteger.valueOf(p.p1()).isProbablePrime(30), "P1 prime: " + p);
      int[] stamp = new int[p.l()];
      int mark = 0;
      int src = Math.min(p.kPrime(), 4000); // all source ISIs up to K' = 4000, then a sample
      for (int i = 0; i < src + 50; i++) {
        long x = i >= src ? rnd.nextLong(p.kPrime(), (1L << 24) + p.kPrime())
            : src == p.kPrime() ? i : rnd.nextInt(p.kPrime());
        int n = Generators.encIndices(p, x, tup, out);
        mark++;
        for (int q = 0; q < n; q++) {
          assertTrue(stamp[out[q]] != mark, "repeated column " + out[q] + " for X=" + x + ", " + p);
          stamp[out[q]] = mark;
        }
      }
    }
  }

  @Test
  void degBoundaries() {
    int w = 1000;
    assertEquals(1, Generators.deg(0, w));
    assertEquals(1, Generators.deg(5242, w));
    assertEquals(2, Generators.deg(5243, w));
    assertEquals(2, Generators.deg(529530, w));
    assertEquals(3, Generators.deg(529531, w));
    assertEquals(29, Generators.deg(1017661, w));
    assertEquals(30, Generators.deg(1017662, w));
    assertEquals(30, Generators.deg((1 << 20) - 1, w));
    assertEquals(15, Generators.deg((1 << 20) - 1, 17), "min(d, W-2)");
  }

  @Test
  void tupleRangesAndDefinition() {
    for (int k : new int[] {1, 10, 101, 1000, 56403}) {
      SystematicParams p = SystematicParams.forSourceSymbols(k);
      for (long x : new long[] {0, 1, 2, k, 1000, 100000, 16777215L + p.kPrime() - k}) {
        int[] t = Generators.tuple(p, x);
        String at = "K=" + k + " X=" + x;
        assertTrue(t[0] >= 1 && t[0] <= 30 && t[0] <= p.w() - 2, at + " d");
        assertTrue(t[1] >= 1 && t[1] <= p.w() - 1, at + " a");
        assertTrue(t[2] >= 0 && t[2] <= p.w() - 1, at + " b");
        assertTrue(t[3] == 2 || t[3] == 3, at + " d1");
        assertTrue(t[3] == 2 || t[0] < 4, at + " d1 = 3 only when d < 4");
        assertTrue(t[4] >= 1 && t[4] <= p.p1() - 1, at + " a1");
        assertTrue(t[5] >= 0 && t[5] <= p.p1() - 1, at + " b1");
        // recompute from the definition of 5.3.5.4
        long a = 53591L + p.j() * 997L;
        a = (a % 2 == 0) ? a + 1 : a;
        long y = (10267L * (p.j() + 1) + x * a) & 0xFFFFFFFFL;
        assertEquals(Generators.deg(Generators.rand(y, 0, 1 << 20), p.w()), t[0], at);
        assertEquals(1 + Generators.rand(y, 1, p.w() - 1), t[1], at);
        assertEquals(Generators.rand(y, 2, p.w()), t[2], at);
        assertEquals(1 + Generators.rand(x, 4, p.p1() - 1), t[4], at);
        assertEquals(Generators.rand(x, 5, p.p1()), t[5], at);
      }
    }
  }

  @Test
  void encIndicesStayInRange() {
    SystematicParams p = SystematicParams.forSourceSymbols(1000);
    int[] tup = new int[6];
    int[] out = new int[40];
    for (int x = 0; x < 5000; x++) {
      int n = Generators.encIndices(p, x, tup, out);
      int[] t = Generators.tuple(p, x);
      assertEquals(t[0] + t[3], n, "d + d1 indices");
      for (int q = 0; q < n; q++) {
        assertTrue(out[q] >= 0 && out[q] < p.l(), "index < L");
        assertEquals(q >= t[0], out[q] >= p.w(), "first d are LT columns, then PI columns");
      }
    }
  }

  @Test
  void derivedParams() {
    SystematicParams p = SystematicParams.forSourceSymbols(1);
    assertEquals(10, p.kPrime());
    assertEquals(254, p.j());
    assertEquals(27, p.l());
    assertEquals(10, p.p());
    assertEquals(11, p.p1());
    assertEquals(0, p.u());
    assertEquals(10, p.b());
    SystematicParams q = SystematicParams.forSourceSymbols(56403);
    assertEquals(56403, q.kPrime());
    assertEquals(56403 + 907 + 16, q.l());
    assertEquals(q.l() - 56951, q.p());
    assertEquals(56951 - 907, q.b());
    assertEquals(11, SystematicParams.forSourceSymbols(11).kPrime() - 1, "K=11 -> K'=12");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SystematicParams.forSourceSymbols(0));
    assertTrue(e.getMessage().contains("K (source symbols) = 0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SystematicParams.forSourceSymbols(56404));
  }
}
