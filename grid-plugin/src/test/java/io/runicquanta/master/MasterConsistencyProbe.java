package io.runicquanta.master;

import java.util.List;
import org.apache.ignite.Ignite;
import org.apache.ignite.lang.IgniteCallable;
import org.apache.ignite.resources.IgniteInstanceResource;

/**
 * For multi-process tests: run on every server node (their classpath is the test's), the node
 * hosting the master answers with {@link MasterCore#checkConsistency()} (the master's memory
 * against its caches, space allocators rebuilt from the caches), the others with null.
 */
public final class MasterConsistencyProbe implements IgniteCallable<List<String>> {
  private static final long serialVersionUID = 1L;

  @IgniteInstanceResource
  private transient Ignite ignite;

  @Override
  public List<String> call() {
    MasterIgniteService s = ignite.services().service(MasterIgniteService.NAME);
    if (s == null || s.core() == null) {
      return null;
    }
    return s.core().checkConsistency();
  }
}
