package io.runicquanta.testing;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test a fresh, limited {@link BufferAllocator} (as a parameter) and fails the test if
 * any buffer is still allocated when it ends. Register it with {@code @RegisterExtension} or
 * {@code @ExtendWith(AllocatorExtension.class)} (default limit 2 GiB).
 */
public final class AllocatorExtension
    implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(AllocatorExtension.class);
  private final long limitBytes;

  public AllocatorExtension() {
    this(2L << 30);
  }

  public AllocatorExtension(long limitBytes) {
    this.limitBytes = limitBytes;
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    context.getStore(NS).put("allocator", new RootAllocator(limitBytes));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    BufferAllocator allocator = context.getStore(NS).remove("allocator", BufferAllocator.class);
    if (allocator == null) {
      return;
    }
    long leaked = allocator.getAllocatedMemory();
    String detail = leaked == 0 ? "" : allocator.toVerboseString();
    try {
      allocator.close();
    } catch (IllegalStateException e) {
      throw new AssertionError("allocator leak after " + context.getDisplayName() + ": " + e.getMessage(), e);
    }
    if (leaked != 0) {
      throw new AssertionError(
          "allocator leak after " + context.getDisplayName() + ": " + leaked + " bytes\n" + detail);
    }
  }

  /** The allocator of the running test. */
  public static BufferAllocator allocator(ExtensionContext context) {
    return context.getStore(NS).get("allocator", BufferAllocator.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext pc, ExtensionContext ec) {
    return pc.getParameter().getType() == BufferAllocator.class;
  }

  @Override
  public Object resolveParameter(ParameterContext pc, ExtensionContext ec) {
    return allocator(ec);
  }
}
