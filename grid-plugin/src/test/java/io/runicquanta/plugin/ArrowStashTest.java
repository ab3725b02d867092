package io.runicquanta.plugin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import io.runicquanta.testing.SplitMix64;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Arrow tables, readers and IPC files through stash and reveal (3 nodes, local transport). */
class ArrowStashTest {
  @RegisterExtension static final AllocatorExtension ALLOC = new AllocatorExtension();
  static PluginGrid grid;

  @BeforeAll
  static void start() {
    grid = PluginGrid.start("ast", 44200, 44300, 3, b -> b);
  }

  @AfterAll
  static void stop() {
    if (grid != null) {
      grid.close();
    }
  }

  @AfterEach
  void noWorkMemoryLeft() {
    for (var n : grid.nodes) {
      RqPlugin p = RqPlugin.of(n);
      assertEquals(p.config().segmentSize(), p.allocator().getAllocatedMemory(),
          "node " + n.name() + " holds more than its segment after the test");
    }
  }

  static final Schema SCHEMA = new Schema(List.of(
      new Field("id", FieldType.nullable(new ArrowType.Int(64, true)), null),
      new Field("n", FieldType.nullable(new ArrowType.Int(32, true)), null),
      new Field("x", FieldType.nullable(new ArrowType.FloatingPoint(
          org.apache.arrow.vector.types.FloatingPointPrecision.DOUBLE)), null),
      new Field("s", FieldType.nullable(new ArrowType.Utf8()), null)));

  /** A table of {@code rows} rows generated from {@code seed} (with some nulls). */
  static VectorSchemaRoot table(BufferAllocator a, long seed, int first, int rows) {
    VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, a);
    root.allocateNew();
    SplitMix64 r = new SplitMix64(seed);
    BigIntVector id = (BigIntVector) root.getVector("id");
    IntVector n = (IntVector) root.getVector("n");
    Float8Vector x = (Float8Vector) root.getVector("x");
    VarCharVector s = (VarCharVector) root.getVector("s");
    for (int i = 0; i < rows; i++) {
      long v = r.nextLong();
      id.setSafe(i, first + i);
      if (v % 17 == 0) {
        n.setNull(i);
      } else {
        n.setSafe(i, (int) v);
      }
      x.setSafe(i, (v >>> 11) * 0x1.0p-53);
      s.setSafe(i, ("row-" + (first + i) + "-" + Long.toHexString(v)).getBytes(StandardCharsets.UTF_8));
    }
    root.setRowCount(rows);
    return root;
  }

  @Test
  void tableRoundTripAndReleaseSource(BufferAllocator a) throws Exception {
    RqStore rq = grid.store(0);
    try (BufferAllocator src = a.newChildAllocator("source", 0, Long.MAX_VALUE);
        VectorSchemaRoot expected = table(a, 42, 0, 30_000);
        VectorSchemaRoot root = table(src, 42, 0, 30_000)) {
      long before = src.getAllocatedMemory();
      assertTrue(before > 1_000_000, "table holds " + before + " bytes");
      StashResult r = rq.stash("arrow/t1", root, StashOptions.defaults().releaseSource(true));
      assertTrue(r.blocks() > 10, r.toString());
      assertEquals(0, src.getAllocatedMemory(), "releaseSource frees the table's buffers");
      assertEquals(Manifest.ARROW_STREAM, rq.stat("arrow/t1").contentType());
      try (VectorSchemaRoot back = grid.store(2).revealTable("arrow/t1", a)) {
        assertEquals(30_000, back.getRowCount());
        assertTrue(expected.equals(back), "revealed table equals the original");
      }
      // kept source: not released
      try (VectorSchemaRoot kept = table(src, 43, 0, 100)) {
        rq.stash("arrow/t2", kept, StashOptions.defaults());
        assertEquals(100, kept.getRowCount());
        try (VectorSchemaRoot back = rq.revealTable("arrow/t2", a)) {
          assertTrue(kept.equals(back));
        }
      }
      assertTrue(rq.remove("arrow/t1"));
      assertTrue(rq.remove("arrow/t2"));
    }
  }

  static byte[] ipcStream(BufferAllocator a, int batches, int rows) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, a);
        ArrowStreamWriter w = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      w.start();
      for (int b = 0; b < batches; b++) {
        try (VectorSchemaRoot batch = table(a, 1000 + b, b * rows, rows)) {
          for (int c = 0; c < SCHEMA.getFields().size(); c++) {
            batch.getVector(c).makeTransferPair(root.getVector(c)).transfer();
          }
          root.setRowCount(rows);
          w.writeBatch();
        }
      }
      w.end();
    }
    return out.toByteArray();
  }

  @Test
  void readerOfManyBatches(BufferAllocator a) throws Exception {
    RqStore rq = grid.store(1);
    byte[] ipc = ipcStream(a, 25, 3000);
    try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(ipc), a)) {
      StashResult r = rq.stash("arrow/many", reader, StashOptions.defaults().releaseSource(true));
      assertTrue(r.size() > 0);
    }
    // batch by batch, equal to the source batches
    try (ArrowReader back = rq.revealReader("arrow/many", a);
        ArrowStreamReader orig = new ArrowStreamReader(new ByteArrayInputStream(ipc), a)) {
      int batches = 0;
      while (orig.loadNextBatch()) {
        assertTrue(back.loadNextBatch(), "batch " + batches);
        assertTrue(orig.getVectorSchemaRoot().equals(back.getVectorSchemaRoot()), "batch " + batches);
        batches++;
      }
      assertFalse(back.loadNextBatch());
      assertEquals(25, batches);
    }
    try (VectorSchemaRoot all = rq.revealTable("arrow/many", a);
        VectorSchemaRoot b24 = table(a, 1000 + 24, 24 * 3000, 3000)) {
      assertEquals(75_000, all.getRowCount());
      assertEquals(24 * 3000L + 5, ((BigIntVector) all.getVector("id")).get(24 * 3000 + 5));
      assertEquals(b24.getVector("s").getObject(7).toString(),
          all.getVector("s").getObject(24 * 3000 + 7).toString());
    }
    assertTrue(rq.remove("arrow/many"));
  }

  @Test
  void arrowFilesAndStreamsByPath(BufferAllocator a, @TempDir Path dir) throws Exception {
    RqStore rq = grid.store(2);
    Path file = dir.resolve("t.arrow");
    try (VectorSchemaRoot root = table(a, 5, 0, 5000);
        var ch = Files.newByteChannel(file, java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE);
        ArrowFileWriter w = new ArrowFileWriter(root, null, ch)) {
      w.start();
      w.writeBatch();
      w.end();
    }
    Path stream = dir.resolve("t.arrows");
    Files.write(stream, ipcStream(a, 3, 1000));
    Path plain = dir.resolve("t.bin");
    Files.write(plain, SplitMix64.bytes(9, 100_000));

    String[][] cases = {{"f/file", file.toString(), Manifest.ARROW_FILE},
        {"f/stream", stream.toString(), Manifest.ARROW_STREAM}, {"f/bin", plain.toString(), Manifest.BYTES}};
    for (String[] c : cases) {
      Path p = Path.of(c[1]);
      rq.stash(c[0], p, StashOptions.defaults());
      assertEquals(c[2], rq.stat(c[0]).contentType(), c[0]);
      try (InputStream in = grid.store(0).reveal(c[0])) {
        assertArrayEquals(Files.readAllBytes(p), in.readAllBytes(), c[0]);
      }
    }
    try (VectorSchemaRoot back = rq.revealTable("f/file", a); VectorSchemaRoot exp = table(a, 5, 0, 5000)) {
      assertTrue(exp.equals(back));
    }
    try (VectorSchemaRoot back = rq.revealTable("f/stream", a)) {
      assertEquals(3000, back.getRowCount());
    }
    assertEquals(RqException.Code.FAILED_PRECONDITION,
        assertThrows(RqException.class, () -> rq.revealTable("f/bin", a)).code());
    for (String[] c : cases) {
      assertTrue(rq.remove(c[0]));
    }
  }

  @Test
  void emptyAndSmallTables(BufferAllocator a) throws Exception {
    RqStore rq = grid.store(0);
    List<Integer> sizes = new ArrayList<>(List.of(0, 1, 7));
    for (int n : sizes) {
      try (VectorSchemaRoot root = table(a, n, 0, n)) {
        rq.stash("small/" + n, root, StashOptions.defaults());
        try (VectorSchemaRoot back = rq.revealTable("small/" + n, a)) {
          assertEquals(n, back.getRowCount());
          assertTrue(root.equals(back));
        }
        assertTrue(rq.remove("small/" + n));
      }
    }
  }
}
