package io.runicquanta.cli;

import io.runicquanta.plugin.RqPluginConfiguration;
import io.runicquanta.plugin.RqStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * An Ignite client node with the Runic Quanta plugin (no segment, never hosts the master) joined to
 * a grid, as the client commands and the demo use it. {@link #connect} fails with {@link
 * GridUnavailableException} naming the addresses tried when no grid answers within the timeout.
 */
final class GridClient implements AutoCloseable {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private final Ignite ignite;
  private final RqStore store;
  private final Path workDir;

  private GridClient(Ignite ignite, RqStore store, Path workDir) {
    this.ignite = ignite;
    this.store = store;
    this.workDir = workDir;
  }

  /**
   * @param grid where the grid is
   * @param transport the grid's transport
   * @param rails rails per peer
   * @param timeoutMillis join and master lookup timeout
   * @return a joined client
   * @throws GridUnavailableException if no grid answered in time
   */
  static GridClient connect(GridSettings grid, String transport, int rails, long timeoutMillis) {
    String name = "rq-client-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
    IgniteConfiguration c = grid.igniteConfiguration(name, true, timeoutMillis);
    RqPluginConfiguration.Builder pc =
        RqPluginConfiguration.builder().segmentSize(0).transport(transport).rails(rails).hostMaster(false);
    if (transport.equals("tcp")) {
      pc.transportOption("tcp.host", grid.localHost());
    }
    c.setPluginConfigurations(pc.build());
    c.setNetworkTimeout(Math.min(timeoutMillis, 5000));
    c.setFailureDetectionTimeout(30_000);
    c.setClientFailureDetectionTimeout(30_000);
    Path work = Path.of(c.getWorkDirectory());
    Ignite ignite;
    try {
      ignite = Ignition.start(c);
    } catch (RuntimeException e) {
      deleteTree(work);
      throw new GridUnavailableException(
          "no grid answered at " + String.join(",", grid.effectiveAddresses()) + " within "
              + timeoutMillis / 1000 + " s (start nodes with `rq node`, or give"
              + " --discovery-addresses): " + rootMessage(e), e);
    }
    try {
      return new GridClient(ignite, RqStore.of(ignite), work);
    } catch (RuntimeException e) {
      ignite.close();
      deleteTree(work);
      throw new GridUnavailableException(
          "joined the grid at " + String.join(",", grid.effectiveAddresses())
              + " but its Runic Quanta store is not available: " + rootMessage(e), e);
    }
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  /** @return the client's Ignite node */
  Ignite ignite() {
    return ignite;
  }

  /** @return the store */
  RqStore store() {
    return store;
  }

  @Override
  public void close() {
    try {
      ignite.close();
    } finally {
      deleteTree(workDir);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      // best effort: a leftover work directory is harmless
    }
  }
}
