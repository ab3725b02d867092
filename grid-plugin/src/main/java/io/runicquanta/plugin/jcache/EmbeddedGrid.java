package io.runicquanta.plugin.jcache;

import io.runicquanta.master.LocalGrid;
import io.runicquanta.plugin.RqPluginConfiguration;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * The one-node grid a {@link RqCachingProvider} starts when no Ignite instance is named: an Ignite
 * server node on 127.0.0.1 (ports from {@link LocalGrid}, so {@code RQ_GRID_PORT_SHIFT} applies)
 * running the Runic Quanta plugin with the {@code local} transport and loss tolerance 0 (one node
 * cannot survive its own loss). Shared by every provider instance of the JVM (the JCache API makes
 * one per class loader) and reference-counted: the last release stops it.
 */
final class EmbeddedGrid {
  static final String INSTANCE = "rq-jcache-embedded";

  private static Ignite ignite;
  private static int users;

  private EmbeddedGrid() {}

  static synchronized Ignite acquire() {
    if (ignite == null) {
      IgniteConfiguration cfg = LocalGrid.config(INSTANCE, 47500, 47100, 10, 128, false);
      cfg.setPluginConfigurations(
          RqPluginConfiguration.builder()
              .transport("local")
              .lossTolerance(0)
              .segmentSize(256L << 20)
              .blockSize(1L << 20)
              .maxMemory(64L << 20)
              .build());
      ignite = Ignition.start(cfg);
    }
    users++;
    return ignite;
  }

  static synchronized void release() {
    if (users == 0) {
      return;
    }
    if (--users == 0 && ignite != null) {
      try {
        Ignition.stop(INSTANCE, true);
      } finally {
        ignite = null;
      }
    }
  }
}
