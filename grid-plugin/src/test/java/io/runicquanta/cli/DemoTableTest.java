package io.runicquanta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.testing.AllocatorExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The demo's seeded table and its row hash: deterministic, sensitive to every value, batch-split independent. */
@ExtendWith(AllocatorExtension.class)
class DemoTableTest {
  @Test
  void sameSeedSameHashAnyChangeAnotherHash(BufferAllocator allocator) {
    try (VectorSchemaRoot a = DemoTable.generate(allocator, 10_000, 7);
        VectorSchemaRoot b = DemoTable.generate(allocator, 10_000, 7);
        VectorSchemaRoot c = DemoTable.generate(allocator, 10_000, 8)) {
      assertEquals(10_000, a.getRowCount());
      assertTrue(a.getVector("value").isNull(96), "every 97th value is null");
      assertEquals(DemoTable.rowHash(a, 0), DemoTable.rowHash(b, 0));
      assertNotEquals(DemoTable.rowHash(a, 0), DemoTable.rowHash(c, 0));
      long h = DemoTable.rowHash(a, 0);
      ((Float8Vector) b.getVector("value")).set(5000, ((Float8Vector) b.getVector("value")).get(5000) + 1e-9);
      assertNotEquals(h, DemoTable.rowHash(b, 0), "one value changed");
      try (VectorSchemaRoot d = DemoTable.generate(allocator, 10_000, 7)) {
        ((VarCharVector) d.getVector("name")).setSafe(9999, "other".getBytes());
        assertNotEquals(h, DemoTable.rowHash(d, 0), "one name changed");
        ((Float8Vector) d.getVector("value")).setNull(0);
        assertNotEquals(h, DemoTable.rowHash(d, 0));
      }
    }
  }

  @Test
  void hashOverBatchesOfTheIpcStreamEqualsTheTablesHash(BufferAllocator allocator) throws Exception {
    ByteArrayOutputStream ipc = new ByteArrayOutputStream();
    long whole;
    try (VectorSchemaRoot t = DemoTable.generate(allocator, 3000, 1)) {
      whole = DemoTable.rowHash(t, 0);
      try (VectorSchemaRoot part = VectorSchemaRoot.create(DemoTable.SCHEMA, allocator);
          ArrowStreamWriter w = new ArrowStreamWriter(part, null, Channels.newChannel(ipc))) {
        w.start();
        for (int from = 0; from < 3000; from += 1000) {
          VectorSchemaRoot slice = t.slice(from, 1000);
          try (ArrowRecordBatch rb = new VectorUnloader(slice).getRecordBatch()) {
            new VectorLoader(part).load(rb);
          } finally {
            slice.close();
          }
          w.writeBatch();
        }
        w.end();
      }
    }
    long h = 0;
    int batches = 0;
    try (ArrowStreamReader r = new ArrowStreamReader(new ByteArrayInputStream(ipc.toByteArray()), allocator)) {
      while (r.loadNextBatch()) {
        h = DemoTable.rowHash(r.getVectorSchemaRoot(), h);
        batches++;
      }
    }
    assertEquals(3, batches);
    assertEquals(whole, h);
  }

  @Test
  void otherSchemasAreRefused(BufferAllocator allocator) {
    try (VectorSchemaRoot r = VectorSchemaRoot.create(new Schema(java.util.List.of()), allocator)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DemoTable.rowHash(r, 0));
      assertTrue(e.getMessage().contains("expected"), e.getMessage());
    }
  }
}
