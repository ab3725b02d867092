package io.runicquanta.master;

import io.runicquanta.codec.layout.BlockLayout;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How PutStart cuts an object into blocks and places every block's shards.
 *
 * <h2>Blocks (RFC 6330 sections 3.3 and 4.4.1.2)</h2>
 *
 * Given the object size F, the symbol size T and the requested block size B: at most {@code KB =
 * min(floor(B / T), 56403)} source symbols fit a block; the object has {@code Kt = ceil(F / T)}
 * source symbols and {@code Z = ceil(Kt / KB)} blocks (at most 255, the 8-bit Z field of the OTI).
 * Blocks are cut with the RFC's {@code Partition[Kt, Z]}: the first {@code ZL} blocks have {@code
 * KL = ceil(Kt / Z)} symbols, the other {@code ZS} have {@code KS = floor(Kt / Z)}; block i starts
 * at byte {@code T * (K_0 + ... + K_(i-1))} and holds {@code min(K_i * T, F - offset)} bytes (the
 * last block's final symbol is zero-padded). The OTI is F, T, Z, N = 1, Al = 4 when 4 divides T
 * (else 1), so a reader that follows the RFC finds the same blocks.
 *
 * <h2>Shards</h2>
 *
 * Shards of one block go to distinct failure units: a unit is a failure domain when segments carry
 * one, otherwise a node. With {@code u} units holding segments, a loss tolerance m and decode
 * margin h:
 *
 * <pre>
 *   n = min(u, maxShardsPerBlock)            shards per block, one per unit; needs n >= m + 1
 *   s = ceil((K + h) / (n - m))              symbols per shard
 *   ESIs of shard j (0-based) = j*s .. j*s + s - 1   (shard 0 holds the source symbols first)
 *   shard region = ShardLayout.HEADER_BYTES + s * T bytes
 * </pre>
 *
 * After losing any m shards, {@code (n - m) * s >= K + h} symbols remain, so the block decodes
 * with RaptorQ's failure odds at h extra symbols (about 1/256^(h+1)). The block carries {@code n *
 * s} symbols in all, ESIs below 2^24.
 *
 * <h2>Balance</h2>
 *
 * For each block, every unit offers its segment with the highest free ratio (free / size) that has
 * a free range long enough; the n units with the highest such ratios get the shards. Allocations of
 * earlier blocks of the same object are counted, so the blocks of a big object spread out.
 *
 * <p>Not thread safe: called under the master's placement lock.
 */
final class Placement {
  /** RFC 6330 K'max. */
  static final int MAX_K = BlockLayout.MAX_K;

  private Placement() {}

  /** A mounted segment and its free space. */
  static final class SegState {
    final SegmentRecord record;
    final SpaceAllocator alloc;

    SegState(SegmentRecord record, long alignment) {
      this.record = record;
      this.alloc = new SpaceAllocator(record.sizeBytes(), alignment);
    }

    double freeRatio() {
      return (double) alloc.freeBytes() / alloc.capacity();
    }
  }

  /** How an object is cut: per-block offset, size and K, and the OTI. */
  record Geometry(long size, int t, int z, long[] offsets, long[] sizes, int[] ks, byte[] oti) {}

  /**
   * @param key object key, for messages
   * @param size F, at least 1
   * @param blockSize B, bytes
   * @param t T, bytes
   * @return the blocks
   * @throws MasterException INVALID_ARGUMENT for a T out of range, a block smaller than T, or an
   *     object needing more than 255 blocks
   */
  static Geometry geometry(String key, long size, long blockSize, int t) {
    if (t < 1 || t > 0xFFFF) {
      throw MasterException.invalid(
          "symbol size T = " + t + " bytes for key '" + key + "'; expected 1..65535 (RFC 6330 3.3.2)");
    }
    if (blockSize < t) {
      throw MasterException.invalid(
          "block size = " + blockSize + " bytes is smaller than the symbol size T = " + t
              + " for key '" + key + "'; expected a block size of at least T");
    }
    if (size > 946_270_874_880L) {
      throw MasterException.invalid(
          "size = " + size + " bytes for key '" + key + "'; expected at most 946270874880 (RFC 6330 F)");
    }
    long kb = Math.min(blockSize / t, MAX_K);
    long kt = (size + t - 1) / t;
    long z = (kt + kb - 1) / kb;
    if (z > 255) {
      long minBlock = ((kt + 254) / 255) * (long) t;
      throw MasterException.invalid(
          "object '" + key + "' of " + size + " bytes needs " + z + " blocks of at most " + kb
              + " symbols of " + t + " bytes; the OTI allows at most 255 blocks; use a block size of"
              + " at least " + minBlock + " bytes" + (minBlock / t > MAX_K ? " and a larger T" : ""));
    }
    int zi = (int) z;
    long kl = (kt + z - 1) / z;
    long ks = kt / z;
    long zl = kt - ks * z;
    long[] offsets = new long[zi];
    long[] sizes = new long[zi];
    int[] ks2 = new int[zi];
    long off = 0;
    for (int i = 0; i < zi; i++) {
      int k = (int) (i < zl ? kl : ks);
      ks2[i] = k;
      offsets[i] = off;
      sizes[i] = Math.min((long) k * t, size - off);
      off += (long) k * t;
    }
    return new Geometry(size, t, zi, offsets, sizes, ks2, oti(size, t, zi, 1, t % 4 == 0 ? 4 : 1));
  }

  /**
   * Encodes an OTI (RFC 6330 sections 3.3.2 and 3.3.3): F in 40 bits, a zero octet, T in 16 bits,
   * Z in 8, N in 16, Al in 8, all big-endian.
   */
  static byte[] oti(long f, int t, int z, int n, int al) {
    byte[] o = new byte[ObjectLayout.OTI_BYTES];
    for (int i = 0; i < 5; i++) {
      o[i] = (byte) (f >>> (8 * (4 - i)));
    }
    o[5] = 0;
    o[6] = (byte) (t >>> 8);
    o[7] = (byte) t;
    o[8] = (byte) z;
    o[9] = (byte) (n >>> 8);
    o[10] = (byte) n;
    o[11] = (byte) al;
    return o;
  }

  private static String plural(String word, long count) {
    return count == 1 ? word : word + "s";
  }

  /** @return s = ceil((K + h) / (n - m)) */
  static int symbolsPerShard(int k, int h, int n, int m) {
    return (int) (((long) k + h + (n - m) - 1) / (n - m));
  }

  /**
   * Places every block of an object, allocating the shard regions. On failure nothing stays
   * allocated.
   *
   * @return the layout, checksums 0
   * @throws MasterException FAILED_PRECONDITION when fewer than m + 1 failure units have segments,
   *     RESOURCE_EXHAUSTED when they lack free space
   */
  static ObjectLayout place(
      String key, Geometry g, int m, int h, int maxShards, Iterable<SegState> segments) {
    Map<String, List<SegState>> units = new LinkedHashMap<>();
    boolean domains = false;
    long totalFree = 0;
    long largest = 0;
    int segCount = 0;
    for (SegState s : segments) {
      units.computeIfAbsent(s.record.failureUnit(), u -> new ArrayList<>()).add(s);
      domains |= !s.record.failureDomain().isEmpty();
      totalFree += s.alloc.freeBytes();
      largest = Math.max(largest, s.alloc.largestFree());
      segCount++;
    }
    String unit = domains ? "failure domain" : "node";
    String what = unit + "s";
    int u = units.size();
    if (u < m + 1) {
      throw MasterException.precondition(
          "surviving " + m + " node losses needs shards on at least " + (m + 1) + " "
              + plural(unit, m + 1) + "; " + u + " " + plural(unit, u) + (u == 1 ? " has" : " have")
              + " segments");
    }
    int n = Math.min(u, maxShards);
    if (n < m + 1) {
      throw MasterException.precondition(
          "surviving " + m + " node losses needs at least " + (m + 1) + " shards per block, but the"
              + " master spreads a block over at most " + maxShards + " shards (maxShardsPerBlock)");
    }
    long needTotal = 0;
    int[] s = new int[g.z()];
    long[] len = new long[g.z()];
    for (int b = 0; b < g.z(); b++) {
      s[b] = symbolsPerShard(g.ks()[b], h, n, m);
      if ((long) n * s[b] >= ShardLayout.ESI_LIMIT) {
        throw MasterException.invalid(
            "block " + b + " of '" + key + "' would need " + ((long) n * s[b])
                + " symbols; ESIs are 24 bits (at most 16777215); lower the decode margin h = " + h);
      }
      len[b] = ShardLayout.HEADER_BYTES + (long) s[b] * g.t();
      needTotal += n * len[b];
    }
    List<Object[]> taken = new ArrayList<>();
    List<BlockLayout> blocks = new ArrayList<>(g.z());
    boolean ok = false;
    try {
      for (int b = 0; b < g.z(); b++) {
        List<SegState> pick = new ArrayList<>(u);
        for (List<SegState> unitSegs : units.values()) {
          SegState best = null;
          for (SegState seg : unitSegs) {
            if (seg.alloc.largestFree() >= seg.alloc.footprint(len[b])
                && (best == null || seg.freeRatio() > best.freeRatio())) {
              best = seg;
            }
          }
          if (best != null) {
            pick.add(best);
          }
        }
        if (pick.size() < n) {
          throw MasterException.exhausted(
              "object '" + key + "' needs " + needTotal + " bytes: per block " + n + " shards of up to "
                  + len[0] + " bytes, each on a different " + unit
                  + "; only " + pick.size() + " of " + u + " " + what + " have a free range of "
                  + len[b] + " bytes for block " + b + " (free: " + totalFree + " bytes across "
                  + segCount + " segments, largest free range " + largest + " bytes)");
        }
        pick.sort(
            Comparator.comparingDouble(SegState::freeRatio)
                .reversed()
                .thenComparing(x -> x.record.name()));
        List<ShardLayout> shards = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
          SegState seg = pick.get(j);
          long off = seg.alloc.allocate(len[b]);
          if (off < 0) {
            throw new IllegalStateException("segment " + seg.record.name() + " refused a range it offered");
          }
          taken.add(new Object[] {seg, off, len[b]});
          shards.add(new ShardLayout(seg.record.name(), off, len[b], j * s[b], s[b], 0));
        }
        blocks.add(new BlockLayout(b, g.offsets()[b], g.sizes()[b], g.ks()[b], shards));
      }
      ObjectLayout layout = new ObjectLayout(key, g.size(), g.oti(), m, blocks);
      ok = true;
      return layout;
    } finally {
      if (!ok) {
        for (Object[] t : taken) {
          ((SegState) t[0]).alloc.free((Long) t[1], (Long) t[2]);
        }
      }
    }
  }
}
