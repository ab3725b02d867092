package io.runicquanta.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.SplitMix64;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Byte round trips, errors, list/stat/remove on 4 in-process nodes with the local transport. */
class StashRevealTest {
  static PluginGrid grid;

  @BeforeAll
  static void start() {
    grid = PluginGrid.start("srt", 47500, 47600, 4, b -> b);
  }

  @AfterAll
  static void stop() {
    if (grid != null) {
      grid.close();
    }
  }

  static byte[] roundTrip(RqStore rq, String key, byte[] data) throws Exception {
    StashResult r = rq.stash(key, new ByteArrayInputStream(data), StashOptions.defaults());
    assertEquals(data.length, r.size());
    try (InputStream in = rq.reveal(key)) {
      return in.readAllBytes();
    }
  }

  @Test
  void bytesRoundTripOverSizes() throws Exception {
    RqStore rq = grid.store(0);
    int block = 64 << 10;
    int[] sizes = {0, 1, 1000, block - 1, block, block + 1, 5 * block + 777};
    for (int n : sizes) {
      byte[] data = SplitMix64.bytes(n, n);
      String key = "rt/" + n;
      byte[] back = roundTrip(rq, key, data);
      assertArrayEquals(data, back, "size " + n);
      // reveal from another node too
      try (InputStream in = grid.store(3).reveal(key)) {
        assertArrayEquals(data, in.readAllBytes(), "size " + n + " from node 3");
      }
      ObjectStat st = rq.stat(key);
      assertEquals(n, st.size());
      assertEquals((n + block - 1) / block, st.blocks());
      assertEquals("HEALTHY", st.health(), st.toString());
      assertTrue(rq.remove(key));
      assertFalse(rq.remove(key));
    }
  }

  @Test
  void errors() throws Exception {
    RqStore rq = grid.store(1);
    byte[] data = SplitMix64.bytes(7, 3000);
    rq.stash("err/dup", new ByteArrayInputStream(data), StashOptions.defaults());
    RqException dup = assertThrows(RqException.class,
        () -> rq.stash("err/dup", new ByteArrayInputStream(data), StashOptions.defaults()));
    assertEquals(RqException.Code.ALREADY_EXISTS, dup.code());
    assertEquals(RqException.Code.NOT_FOUND,
        assertThrows(RqException.class, () -> rq.reveal("err/none")).code());
    assertEquals(RqException.Code.NOT_FOUND,
        assertThrows(RqException.class, () -> rq.stat("err/none")).code());
    for (String bad : new String[] {"", ".rq/x", "k".repeat(1025)}) {
      assertEquals(RqException.Code.INVALID_ARGUMENT, assertThrows(RqException.class,
          () -> rq.stash(bad, new ByteArrayInputStream(data), StashOptions.defaults())).code());
    }
    // m = 4 needs 5 nodes; there are 4
    RqException few = assertThrows(RqException.class, () -> rq.stash("err/few",
        new ByteArrayInputStream(data), StashOptions.defaults().lossTolerance(4)));
    assertEquals(RqException.Code.FAILED_PRECONDITION, few.code(), few.getMessage());
    assertTrue(rq.list("err/few").isEmpty());
    assertEquals(RqException.Code.INVALID_ARGUMENT,
        assertThrows(RqException.class, () -> rq.list("(")).code());
    assertTrue(rq.remove("err/dup"));
  }

  @Test
  void listHidesPartsAndStatCounts() throws Exception {
    RqStore rq = grid.store(2);
    for (int i = 0; i < 3; i++) {
      byte[] d = SplitMix64.bytes(100 + i, 70_000 * (i + 1));
      rq.stash("ls/" + i, new ByteArrayInputStream(d), StashOptions.defaults());
    }
    List<ObjectStat> all = rq.list("ls/.*");
    assertEquals(List.of("ls/0", "ls/1", "ls/2"), all.stream().map(ObjectStat::key).toList());
    assertEquals(140_000, all.get(1).size());
    assertEquals(3, all.get(1).blocks());
    assertTrue(rq.list(null).stream().noneMatch(s -> s.key().startsWith(".rq/")));
    assertTrue(rq.list(null).size() >= 3);
    ClusterStatus cs = rq.status();
    assertEquals(4, cs.nodes());
    assertEquals(4, cs.segments().size());
    assertTrue(cs.freeBytes() < cs.totalBytes());
    for (int i = 0; i < 3; i++) {
      assertTrue(rq.remove("ls/" + i));
    }
    assertTrue(rq.list("ls/.*").isEmpty());
  }
}
