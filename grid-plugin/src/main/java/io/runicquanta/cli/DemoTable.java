package io.runicquanta.cli;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The demo's table, generated from a seed: {@code id bigint} (0, 1, 2, ...), {@code value double}
 * (a splitmix64 draw in [0, 1000), every 97th row null) and {@code name varchar} ({@code
 * "name-<n>"}, 5 to 12 bytes). {@link #rowHash} folds every row's values (nulls included) into 64
 * bits, so a revealed table can be checked against the original without keeping a copy.
 */
public final class DemoTable {
  /** The table's schema. */
  public static final Schema SCHEMA = new Schema(List.of(
      Field.notNullable("id", new ArrowType.Int(64, true)),
      new Field("value", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)), null),
      Field.notNullable("name", ArrowType.Utf8.INSTANCE)));

  private DemoTable() {}

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * @param allocator where the buffers go
   * @param rows row count
   * @param seed the seed
   * @return a new table; the caller closes it
   */
  public static VectorSchemaRoot generate(BufferAllocator allocator, int rows, long seed) {
    VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator);
    try {
      BigIntVector id = (BigIntVector) root.getVector("id");
      Float8Vector value = (Float8Vector) root.getVector("value");
      VarCharVector name = (VarCharVector) root.getVector("name");
      id.allocateNew(rows);
      value.allocateNew(rows);
      name.allocateNew(rows * 10L, rows);
      byte[] buf = new byte[32];
      for (int i = 0; i < rows; i++) {
        long r = mix(seed + 0x9E3779B97F4A7C15L * (i + 1L));
        id.set(i, i);
        if (i % 97 == 96) {
          value.setNull(i);
        } else {
          value.set(i, (r >>> 11) * 0x1.0p-53 * 1000.0);
        }
        int n = nameBytes(r, buf);
        name.setSafe(i, buf, 0, n);
      }
      root.setRowCount(rows);
      return root;
    } catch (RuntimeException e) {
      root.close();
      throw e;
    }
  }

  private static int nameBytes(long r, byte[] buf) {
    String s = "name-" + Long.toString(Math.floorMod(r, 10_000_000L) >>> (int) ((r >>> 59) & 7), 10);
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, buf, 0, b.length);
    return b.length;
  }

  /**
   * A 64-bit hash of every row, in order: its id, the bits of its value (or a null marker) and its
   * name's bytes. Two tables with the demo's schema hash equal when their contents are equal (up to
   * the odds of a 64-bit collision).
   *
   * @param root a table with {@link #SCHEMA}
   * @param hash the hash so far (0 to start; pass the result on for the next batch)
   * @return the hash after this table's rows
   */
  public static long rowHash(VectorSchemaRoot root, long hash) {
    if (!root.getSchema().equals(SCHEMA)) {
      throw new IllegalArgumentException("schema " + root.getSchema() + ", expected " + SCHEMA);
    }
    BigIntVector id = (BigIntVector) root.getVector("id");
    Float8Vector value = (Float8Vector) root.getVector("value");
    VarCharVector name = (VarCharVector) root.getVector("name");
    long h = hash;
    for (int i = 0; i < root.getRowCount(); i++) {
      h = mix(h ^ id.get(i));
      h = mix(h ^ (value.isNull(i) ? 0x7FF8DEADBEEFL : Double.doubleToRawLongBits(value.get(i))));
      long start = name.getStartOffset(i);
      long end = name.getEndOffset(i);
      h = mix(h ^ (end - start));
      for (long p = start; p < end; p++) {
        h = h * 31 + name.getDataBuffer().getByte(p);
      }
    }
    return h;
  }
}
