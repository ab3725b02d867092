package io.runicquanta.plugin.jcache;

import io.runicquanta.master.LocalGrid;
import io.runicquanta.plugin.RqPluginConfiguration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * The one-node grid a {@link RqCachingProvider} starts when no Ignite instance is named: an Ignite
 * server node on 127.0.0.1 (ports from {@link LocalGrid}, so {@code RQ_GRID_PORT_SHIFT} applies)
 * running the Runic Quanta plugin with the {@code local} transport and loss tolerance 0 (one node
 * cannot survive its own loss). Shared by every provider instance of the JVM (the JCache API makes
 * one per class loader) and reference-counted. When the last provider releases it, the node stops
 * after a linger of {@value #LINGER_PROPERTY} ms (default 2000; 0 stops at once), unless a provider
 * takes it again meanwhile: programs (and the TCK) that close and reopen providers in quick
 * succession do not pay a node start each time. The linger thread is a daemon; the node's own
 * threads keep the JVM alive until it has stopped.
 */
final class EmbeddedGrid {
  static final String INSTANCE = "rq-jcache-embedded";
  /** System property: ms the node lingers after its last release. */
  static final String LINGER_PROPERTY = "rq.jcache.embedded.lingerMillis";

  private static Ignite ignite;
  private static int users;
  private static ScheduledFuture<?> pendingStop;
  private static ScheduledExecutorService timer;

  private EmbeddedGrid() {}

  static synchronized Ignite acquire() {
    if (pendingStop != null) {
      pendingStop.cancel(false);
      pendingStop = null;
    }
    if (ignite == null) {
      IgniteConfiguration cfg = LocalGrid.config(INSTANCE, 48700, 48800, 10, 128, false);
      cfg.setPluginConfigurations(
          RqPluginConfiguration.builder()
              .transport("local")
              .lossTolerance(0)
              .segmentSize(128L << 20)
              .blockSize(1L << 20)
              .maxMemory(64L << 20)
              .build());
      ignite = Ignition.start(cfg);
    }
    users++;
    return ignite;
  }

  static synchronized Ignite get() {
    if (ignite == null) {
      throw new IllegalStateException("the embedded grid is not started");
    }
    return ignite;
  }

  static synchronized void release() {
    if (users == 0 || --users > 0 || ignite == null) {
      return;
    }
    long linger = Long.getLong(LINGER_PROPERTY, 2000L);
    if (linger <= 0) {
      stopNow();
      return;
    }
    if (timer == null) {
      timer =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "rq-jcache-embedded-linger");
                t.setDaemon(true);
                return t;
              });
    }
    pendingStop = timer.schedule(EmbeddedGrid::stopIfUnused, linger, TimeUnit.MILLISECONDS);
  }

  private static synchronized void stopIfUnused() {
    pendingStop = null;
    if (users == 0 && ignite != null) {
      stopNow();
    }
  }

  private static void stopNow() {
    try {
      Ignition.stop(INSTANCE, true);
    } finally {
      ignite = null;
    }
  }
}
