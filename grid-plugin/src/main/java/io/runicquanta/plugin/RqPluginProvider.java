package io.runicquanta.plugin;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.ignite.IgniteCheckedException;
import org.apache.ignite.cluster.ClusterNode;
import org.apache.ignite.configuration.IgniteConfiguration;
import org.apache.ignite.plugin.CachePluginContext;
import org.apache.ignite.plugin.CachePluginProvider;
import org.apache.ignite.plugin.ExtensionRegistry;
import org.apache.ignite.plugin.PluginConfiguration;
import org.apache.ignite.plugin.PluginContext;
import org.apache.ignite.plugin.PluginProvider;

/**
 * The Ignite entry point of Runic Quanta, found by ServiceLoader ({@code
 * META-INF/services/org.apache.ignite.plugin.PluginProvider}). Name {@value #NAME}.
 *
 * <p>The plugin runs only on nodes whose {@code IgniteConfiguration} holds a {@link
 * RqPluginConfiguration}: the jar on a node's classpath alone changes nothing (so one classpath can
 * serve plain Ignite nodes, and nodes that host only the master through {@code MasterNodeMain}),
 * and {@link RqPlugin#of} on such a node says which line to add.
 *
 * <p>Lifecycle: {@link #start} reads the node's {@link RqPluginConfiguration} and publishes the node attributes {@value #ATTR_HOST_MASTER} and {@value
 * #ATTR_ENABLED}; {@link #onIgniteStart} (the node has joined) builds the {@link RqPlugin}: it
 * allocates the segment, starts the transfer engine, deploys the master and mounts; {@link
 * #onIgniteStop} undoes all of it in reverse order while the node can still talk to the grid.
 */
public final class RqPluginProvider implements PluginProvider<RqPluginConfiguration> {
  /** The plugin's name. */
  public static final String NAME = "runic-quanta";

  /**
   * Node attribute: "true" when the node may host the master ("false" keeps it off; the rule is
   * {@code MasterHosts}'s).
   */
  public static final String ATTR_HOST_MASTER = io.runicquanta.master.MasterHosts.ATTR;

  /** Node attribute: "true" on nodes running the plugin. */
  public static final String ATTR_ENABLED = "rq.enabled";

  private volatile PluginContext ctx;
  private volatile RqPluginConfiguration cfg;
  private volatile RqPlugin plugin;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String version() {
    return "0.1.0";
  }

  @Override
  public String copyright() {
    return "Runic Quanta contributors";
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends org.apache.ignite.plugin.IgnitePlugin> T plugin() {
    RqPlugin p = plugin;
    if (p == null) {
      p = RqPlugin.unstarted(cfg);
    }
    return (T) p;
  }

  @Override
  public void initExtensions(PluginContext ctx, ExtensionRegistry registry) {
    this.ctx = ctx;
    this.cfg = configurationOf(ctx.igniteConfiguration());
  }

  @Override
  public <T> T createComponent(PluginContext ctx, Class<T> cls) {
    return null;
  }

  @Override
  public CachePluginProvider createCacheProvider(CachePluginContext ctx) {
    return null;
  }

  @Override
  public void start(PluginContext ctx) {
    this.ctx = ctx;
    if (cfg == null) {
      cfg = configurationOf(ctx.igniteConfiguration());
    }
    IgniteConfiguration ic = ctx.igniteConfiguration();
    Map<String, Object> attrs = new HashMap<>();
    if (ic.getUserAttributes() != null) {
      attrs.putAll(ic.getUserAttributes());
    }
    boolean client = Boolean.TRUE.equals(ic.isClientMode());
    attrs.put(ATTR_ENABLED, Boolean.toString(cfg != null));
    if (cfg != null) {
      // a node without the plugin's configuration keeps whatever it has (usually nothing): the jar
      // alone must not change where the master may run (MasterHosts ranks "true", then nodes
      // without the attribute, such as MasterNodeMain's; "false" never hosts)
      attrs.put(ATTR_HOST_MASTER, Boolean.toString(cfg.hostMaster() && !client));
    }
    ic.setUserAttributes(attrs);
  }

  @Override
  public void stop(boolean cancel) {}

  @Override
  public void onIgniteStart() throws IgniteCheckedException {
    if (cfg == null) {
      return; // no RqPluginConfiguration: the plugin stays off on this node
    }
    try {
      plugin = RqPlugin.start(ctx.grid(), cfg);
    } catch (RuntimeException e) {
      throw new IgniteCheckedException("Runic Quanta plugin failed to start: " + e.getMessage(), e);
    }
  }

  @Override
  public void onIgniteStop(boolean cancel) {
    RqPlugin p = plugin;
    if (p != null) {
      p.stop();
    }
  }

  @Override
  public Serializable provideDiscoveryData(UUID nodeId) {
    return null;
  }

  @Override
  public void receiveDiscoveryData(UUID nodeId, Serializable data) {}

  @Override
  public void validateNewNode(ClusterNode node) {}

  /**
   * @param ic a node's configuration
   * @return its {@link RqPluginConfiguration}, or null when it has none (the plugin stays off)
   */
  static RqPluginConfiguration configurationOf(IgniteConfiguration ic) {
    PluginConfiguration[] pcs = ic.getPluginConfigurations();
    if (pcs != null) {
      for (PluginConfiguration pc : pcs) {
        if (pc instanceof RqPluginConfiguration r) {
          return r;
        }
      }
    }
    return null;
  }
}
