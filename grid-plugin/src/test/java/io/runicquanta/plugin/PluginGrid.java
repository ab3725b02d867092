package io.runicquanta.plugin;

import io.runicquanta.master.LocalGrid;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * In-process Ignite server nodes running the Runic Quanta plugin, on 127.0.0.1 (ports shifted by
 * {@code RQ_GRID_PORT_SHIFT}). Each test class passes its own port base so grids never meet.
 */
final class PluginGrid implements AutoCloseable {
  static final int RANGE = 10;
  final List<Ignite> nodes = new ArrayList<>();
  private final String prefix;
  private final int disco;
  private final int comm;
  private final UnaryOperator<RqPluginConfiguration.Builder> tune;

  PluginGrid(String prefix, int disco, int comm, UnaryOperator<RqPluginConfiguration.Builder> tune) {
    this.prefix = prefix;
    this.disco = disco;
    this.comm = comm;
    this.tune = tune;
  }

  /** Test defaults: local transport, 32 MiB segments, 64 KiB blocks, T = 1024, m = 1. */
  static RqPluginConfiguration.Builder testConfig() {
    return RqPluginConfiguration.builder()
        .transport("local")
        .segmentSize(32L << 20)
        .blockSize(64 << 10)
        .symbolSize(1024)
        .lossTolerance(1)
        .maxMemory(64L << 20)
        .concurrency(2)
        .stashLeaseMillis(60_000);
  }

  static PluginGrid start(String prefix, int disco, int comm, int servers,
      UnaryOperator<RqPluginConfiguration.Builder> tune) {
    PluginGrid g = new PluginGrid(prefix, disco, comm, tune);
    try {
      for (int i = 0; i < servers; i++) {
        g.startServer();
      }
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
    return g;
  }

  Ignite startServer() {
    return start(configuration(prefix + "-" + nodes.size(), false));
  }

  IgniteConfiguration configuration(String name, boolean client) {
    IgniteConfiguration c = LocalGrid.config(name, disco, comm, RANGE, 32, client);
    c.setPluginConfigurations(tune.apply(testConfig()).build());
    return c;
  }

  Ignite start(IgniteConfiguration c) {
    Ignite ig = Ignition.start(c);
    nodes.add(ig);
    return ig;
  }

  RqStore store(int i) {
    return RqStore.of(nodes.get(i));
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      try {
        Ignition.stop(nodes.get(i).name(), true);
      } catch (RuntimeException e) {
        // already stopped
      }
    }
    nodes.clear();
  }
}
