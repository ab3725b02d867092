package io.runicquanta.plugin;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.apache.ignite.plugin.PluginConfiguration;

/**
 * Configuration of the Runic Quanta plugin on one node; add it to {@code
 * IgniteConfiguration.setPluginConfigurations(...)} and put the plugin jar on the classpath (the
 * {@code RqPluginProvider} is found by ServiceLoader). Immutable; build with {@link #builder()}.
 *
 * <pre>{@code
 * IgniteConfiguration cfg = new IgniteConfiguration()
 *     .setPluginConfigurations(RqPluginConfiguration.builder()
 *         .segmentSize(1L << 30).transport("tcp").lossTolerance(1).build());
 * }</pre>
 */
public final class RqPluginConfiguration implements PluginConfiguration, Serializable {
  private static final long serialVersionUID = 1L;

  private final long segmentSize;
  private final String transport;
  private final int rails;
  private final Map<String, String> transportOptions;
  private final String failureDomain;
  private final int lossTolerance;
  private final long blockSize;
  private final int symbolSize;
  private final long maxMemory;
  private final int concurrency;
  private final boolean hostMaster;
  private final int masterPort;
  private final int masterBackups;
  private final long stashLeaseMillis;
  private final long repairBytesPerSecond;
  private final long repairIntervalMillis;

  private RqPluginConfiguration(Builder b) {
    this.segmentSize = b.segmentSize;
    this.transport = b.transport;
    this.rails = b.rails;
    this.transportOptions = Map.copyOf(b.transportOptions);
    this.failureDomain = b.failureDomain;
    this.lossTolerance = b.lossTolerance;
    this.blockSize = b.blockSize;
    this.symbolSize = b.symbolSize;
    this.maxMemory = b.maxMemory;
    this.concurrency = b.concurrency;
    this.hostMaster = b.hostMaster;
    this.masterPort = b.masterPort;
    this.masterBackups = b.masterBackups;
    this.stashLeaseMillis = b.stashLeaseMillis;
    this.repairBytesPerSecond = b.repairBytesPerSecond;
    this.repairIntervalMillis = b.repairIntervalMillis;
  }

  /** @return a builder with the defaults listed on its setters */
  public static Builder builder() {
    return new Builder();
  }

  /** @return bytes of the segment a server node offers for shards; 0 on nodes that store none */
  public long segmentSize() {
    return segmentSize;
  }

  /** @return transport name: {@code local}, {@code tcp} or {@code fabric} */
  public String transport() {
    return transport;
  }

  /** @return rails of the transfer engine */
  public int rails() {
    return rails;
  }

  /** @return transport options passed to the transfer engine (e.g. {@code tcp.host}) */
  public Map<String, String> transportOptions() {
    return transportOptions;
  }

  /** @return this node's failure domain, "" for none */
  public String failureDomain() {
    return failureDomain;
  }

  /** @return default loss tolerance m */
  public int lossTolerance() {
    return lossTolerance;
  }

  /** @return default block size in bytes */
  public long blockSize() {
    return blockSize;
  }

  /** @return default symbol size T in bytes */
  public int symbolSize() {
    return symbolSize;
  }

  /** @return cap on the off-heap bytes stash, reveal and repair use on this node at once */
  public long maxMemory() {
    return maxMemory;
  }

  /** @return blocks encoded, decoded or in transfer at once per operation */
  public int concurrency() {
    return concurrency;
  }

  /** @return true if this server node may host the master (one node runs it: the oldest of them) */
  public boolean hostMaster() {
    return hostMaster;
  }

  /** @return gRPC port of the master when it runs here, 0 for any free port */
  public int masterPort() {
    return masterPort;
  }

  /**
   * @return backup copies of the master's caches (object layouts, segments): the layouts survive
   *     this many simultaneous node losses, so it should be at least the largest loss tolerance used
   */
  public int masterBackups() {
    return masterBackups;
  }

  /** @return how long a stash may take before the master revokes it (its put lease) */
  public long stashLeaseMillis() {
    return stashLeaseMillis;
  }

  /** @return cap on the bytes per second self-healing writes from this node */
  public long repairBytesPerSecond() {
    return repairBytesPerSecond;
  }

  /**
   * @return how often the repairer (on the master's node) looks for degraded objects, besides
   *     right after a topology change; 0 when self-healing is off on this node
   */
  public long repairIntervalMillis() {
    return repairIntervalMillis;
  }

  @Override
  public String toString() {
    return "RqPluginConfiguration[segmentSize=" + segmentSize + ", transport=" + transport
        + ", rails=" + rails + ", transportOptions=" + new TreeMap<>(transportOptions)
        + ", failureDomain=" + failureDomain + ", lossTolerance=" + lossTolerance
        + ", blockSize=" + blockSize + ", symbolSize=" + symbolSize + ", maxMemory=" + maxMemory
        + ", concurrency=" + concurrency + ", hostMaster=" + hostMaster + ", masterPort="
        + masterPort + ", masterBackups=" + masterBackups + ", stashLeaseMillis=" + stashLeaseMillis + ", repairBytesPerSecond="
        + repairBytesPerSecond + ", repairIntervalMillis=" + repairIntervalMillis + "]";
  }

  /** Builds a {@link RqPluginConfiguration}; every setter checks its argument. */
  public static final class Builder {
    private long segmentSize = 256L << 20;
    private String transport = "tcp";
    private int rails = 1;
    private final Map<String, String> transportOptions = new TreeMap<>();
    private String failureDomain = "";
    private int lossTolerance = 1;
    private long blockSize = 8L << 20;
    private int symbolSize = 65532;
    private long maxMemory = 256L << 20;
    private int concurrency = 2;
    private boolean hostMaster = true;
    private int masterPort = 0;
    private int masterBackups = 2;
    private long stashLeaseMillis = 600_000;
    private long repairBytesPerSecond = 64L << 20;
    private long repairIntervalMillis = 5_000;

    private Builder() {}

    /** Segment size in bytes, 0 (store nothing) or at least 1 MiB; default 256 MiB. */
    public Builder segmentSize(long bytes) {
      if (bytes != 0 && bytes < (1L << 20)) {
        throw new IllegalArgumentException("segmentSize = " + bytes + ", expected 0 or >= 1 MiB");
      }
      this.segmentSize = bytes;
      return this;
    }

    /** Transport: {@code local} (one JVM), {@code tcp} or {@code fabric}; default {@code tcp}. */
    public Builder transport(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("transport must be non-empty (local, tcp or fabric)");
      }
      this.transport = name;
      return this;
    }

    /** Rails, 1..64; default 1. */
    public Builder rails(int n) {
      if (n < 1 || n > 64) {
        throw new IllegalArgumentException("rails = " + n + ", expected 1..64");
      }
      this.rails = n;
      return this;
    }

    /** One transport option, e.g. {@code tcp.host=127.0.0.1}. */
    public Builder transportOption(String key, String value) {
      if (key == null || key.isEmpty() || value == null) {
        throw new IllegalArgumentException("transport option needs a key and a value");
      }
      transportOptions.put(key, value);
      return this;
    }

    /** Failure domain of this node (rack, host); default "" (the node is its own domain). */
    public Builder failureDomain(String domain) {
      this.failureDomain = domain == null ? "" : domain;
      return this;
    }

    /** Default loss tolerance m, 0..16; default 1. */
    public Builder lossTolerance(int m) {
      if (m < 0 || m > 16) {
        throw new IllegalArgumentException("lossTolerance = " + m + ", expected 0..16");
      }
      this.lossTolerance = m;
      return this;
    }

    /** Default block size, 4 KiB..1 GiB; default 8 MiB. */
    public Builder blockSize(long bytes) {
      if (bytes < 4096 || bytes > (1L << 30)) {
        throw new IllegalArgumentException("blockSize = " + bytes + ", expected 4096..2^30");
      }
      this.blockSize = bytes;
      return this;
    }

    /** Default symbol size T, 1..65535 (RFC 6330 3.3.2); default 65532. */
    public Builder symbolSize(int t) {
      if (t < 1 || t > 65535) {
        throw new IllegalArgumentException("symbolSize = " + t + ", expected 1..65535");
      }
      this.symbolSize = t;
      return this;
    }

    /** Off-heap cap for stash, reveal and repair work on this node, >= 16 MiB; default 256 MiB. */
    public Builder maxMemory(long bytes) {
      if (bytes < (16L << 20)) {
        throw new IllegalArgumentException("maxMemory = " + bytes + ", expected >= 16 MiB");
      }
      this.maxMemory = bytes;
      return this;
    }

    /** Blocks in work at once per operation, 1..64; default 2. */
    public Builder concurrency(int n) {
      if (n < 1 || n > 64) {
        throw new IllegalArgumentException("concurrency = " + n + ", expected 1..64");
      }
      this.concurrency = n;
      return this;
    }

    /** Whether this server node may host the master; default true. */
    public Builder hostMaster(boolean host) {
      this.hostMaster = host;
      return this;
    }

    /** Master gRPC port when hosted here, 0..65535 (0: any free port); default 0. */
    public Builder masterPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("masterPort = " + port + ", expected 0..65535");
      }
      this.masterPort = port;
      return this;
    }

    /**
     * Backup copies of the master's caches, 0..8; default 2. Object layouts survive that many
     * simultaneous node losses, so keep it at least the largest loss tolerance m in use (the
     * master's cache configuration is fixed by the first node that starts it).
     */
    public Builder masterBackups(int backups) {
      if (backups < 0 || backups > 8) {
        throw new IllegalArgumentException("masterBackups = " + backups + ", expected 0..8");
      }
      this.masterBackups = backups;
      return this;
    }

    /** Put lease of a stash in ms, >= 1000; default 10 minutes. */
    public Builder stashLeaseMillis(long ms) {
      if (ms < 1000) {
        throw new IllegalArgumentException("stashLeaseMillis = " + ms + ", expected >= 1000");
      }
      this.stashLeaseMillis = ms;
      return this;
    }

    /** Self-healing write cap in bytes per second, >= 1 MiB/s; default 64 MiB/s. */
    public Builder repairBytesPerSecond(long bps) {
      if (bps < (1L << 20)) {
        throw new IllegalArgumentException("repairBytesPerSecond = " + bps + ", expected >= 1 MiB/s");
      }
      this.repairBytesPerSecond = bps;
      return this;
    }

    /**
     * Period of the repairer's scan for degraded objects in ms (it also runs right after a node
     * leaves); 0 turns self-healing off on this node; default 5 s.
     */
    public Builder repairIntervalMillis(long ms) {
      if (ms < 0 || (ms > 0 && ms < 50)) {
        throw new IllegalArgumentException("repairIntervalMillis = " + ms + ", expected 0 (off) or >= 50");
      }
      this.repairIntervalMillis = ms;
      return this;
    }

    /** @return the configuration */
    public RqPluginConfiguration build() {
      return new RqPluginConfiguration(this);
    }
  }
}
