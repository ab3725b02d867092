package io.runicquanta.codec.raptorq;

import java.lang.reflect.Field;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;

/**
 * Diagnostics for the benchmarks: the addresses of a {@link WorkspacePool}'s idle buffers, in the
 * order the pool would hand them out (the first buffer large enough wins), read without taking
 * them (so the pool's state, and which buffer serves which role next, is not changed).
 */
public final class PoolPeek {
  private PoolPeek() {}

  /** Address and capacity of each idle buffer, as "addr mod 4096 (capacity)". */
  public static String idle(WorkspacePool pool) {
    try {
      Field f = WorkspacePool.class.getDeclaredField("idle");
      f.setAccessible(true);
      StringBuilder sb = new StringBuilder("[");
      synchronized (pool) {
        @SuppressWarnings("unchecked")
        List<ArrowBuf> idle = (List<ArrowBuf>) f.get(pool);
        for (ArrowBuf b : idle) {
          if (sb.length() > 1) {
            sb.append(", ");
          }
          sb.append(b.memoryAddress() % 4096).append(" (").append(b.capacity()).append(')');
        }
      }
      return sb.append(']').toString();
    } catch (ReflectiveOperationException e) {
      return "?" + e;
    }
  }
}
