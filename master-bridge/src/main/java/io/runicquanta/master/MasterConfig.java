package io.runicquanta.master;

import java.io.Serializable;
import java.util.Objects;

/**
 * Settings of the master service. Immutable and thread safe; build with {@link #builder()}.
 *
 * <p>Durations are milliseconds, sizes bytes. The defaults suit a production grid; tests shorten
 * the leases and the reaper interval.
 */
public final class MasterConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String grpcHost;
  private final int grpcPort;
  private final long readLeaseMillis;
  private final long putLeaseMillis;
  private final long reaperIntervalMillis;
  private final int maxShardsPerBlock;
  private final int defaultDecodeMargin;
  private final long allocAlignment;
  private final int cacheBackups;
  private final int maxBatchItems;
  private final int maxRegexMatches;
  private final int commitConcurrency;

  private MasterConfig(Builder b) {
    this.grpcHost = b.grpcHost;
    this.grpcPort = b.grpcPort;
    this.readLeaseMillis = b.readLeaseMillis;
    this.putLeaseMillis = b.putLeaseMillis;
    this.reaperIntervalMillis = b.reaperIntervalMillis;
    this.maxShardsPerBlock = b.maxShardsPerBlock;
    this.defaultDecodeMargin = b.defaultDecodeMargin;
    this.allocAlignment = b.allocAlignment;
    this.cacheBackups = b.cacheBackups;
    this.maxBatchItems = b.maxBatchItems;
    this.maxRegexMatches = b.maxRegexMatches;
    this.commitConcurrency = b.commitConcurrency;
  }

  /** @return a builder holding the defaults */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the interface the gRPC server binds and publishes (default 127.0.0.1) */
  public String grpcHost() {
    return grpcHost;
  }

  /** @return the gRPC port; 0 (default) picks a free port */
  public int grpcPort() {
    return grpcPort;
  }

  /** @return how long GetReplicaList keeps an object's space valid (default 10 000 ms) */
  public long readLeaseMillis() {
    return readLeaseMillis;
  }

  /** @return how long a put may stay open between PutStart and PutEnd (default 30 000 ms) */
  public long putLeaseMillis() {
    return putLeaseMillis;
  }

  /** @return how often expired put leases and deferred frees are processed (default 200 ms) */
  public long reaperIntervalMillis() {
    return reaperIntervalMillis;
  }

  /** @return the most shards (and so nodes) one block is spread over (default 16) */
  public int maxShardsPerBlock() {
    return maxShardsPerBlock;
  }

  /** @return decode margin h used when a request gives none (default 3) */
  public int defaultDecodeMargin() {
    return defaultDecodeMargin;
  }

  /** @return offset and length granularity of shard regions in bytes (default 64) */
  public long allocAlignment() {
    return allocAlignment;
  }

  /** @return backups of every master cache (default 1: survives one node loss) */
  public int cacheBackups() {
    return cacheBackups;
  }

  /** @return the most items one batch call may carry (default 10 000) */
  public int maxBatchItems() {
    return maxBatchItems;
  }

  /** @return the most objects one regex call may return or remove (default 100 000) */
  public int maxRegexMatches() {
    return maxRegexMatches;
  }

  /**
   * @return group-commit batches that may commit at once (default {@value
   *     Builder#DEFAULT_COMMIT_CONCURRENCY}; see {@code MasterCore}: fewer, larger batches cost less
   *     CPU per change, more hide the commit's latency when the CPU is idle)
   */
  public int commitConcurrency() {
    return commitConcurrency;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MasterConfig c
        && grpcHost.equals(c.grpcHost)
        && grpcPort == c.grpcPort
        && readLeaseMillis == c.readLeaseMillis
        && putLeaseMillis == c.putLeaseMillis
        && reaperIntervalMillis == c.reaperIntervalMillis
        && maxShardsPerBlock == c.maxShardsPerBlock
        && defaultDecodeMargin == c.defaultDecodeMargin
        && allocAlignment == c.allocAlignment
        && cacheBackups == c.cacheBackups
        && maxBatchItems == c.maxBatchItems
        && maxRegexMatches == c.maxRegexMatches
        && commitConcurrency == c.commitConcurrency;
  }

  @Override
  public int hashCode() {
    return Objects.hash(grpcHost, grpcPort, readLeaseMillis, putLeaseMillis, maxShardsPerBlock);
  }

  @Override
  public String toString() {
    return "MasterConfig[grpc=" + grpcHost + ":" + grpcPort + ", readLease=" + readLeaseMillis
        + "ms, putLease=" + putLeaseMillis + "ms, reaper=" + reaperIntervalMillis
        + "ms, maxShardsPerBlock=" + maxShardsPerBlock + ", h=" + defaultDecodeMargin
        + ", alignment=" + allocAlignment + ", backups=" + cacheBackups
        + ", commitConcurrency=" + commitConcurrency + "]";
  }

  /** Mutable builder of {@link MasterConfig}; not thread safe. */
  public static final class Builder {
    private String grpcHost = "127.0.0.1";
    private int grpcPort = 0;
    private long readLeaseMillis = 10_000;
    private long putLeaseMillis = 30_000;
    private long reaperIntervalMillis = 200;
    private int maxShardsPerBlock = 16;
    private int defaultDecodeMargin = 3;
    private long allocAlignment = 64;
    private int cacheBackups = 1;
    private int maxBatchItems = 10_000;
    private int maxRegexMatches = 100_000;
    private int commitConcurrency = DEFAULT_COMMIT_CONCURRENCY;

    /** Default of {@link MasterConfig#commitConcurrency()}. */
    public static final int DEFAULT_COMMIT_CONCURRENCY = 2;

    private Builder() {}

    /**
     * @param host interface to bind and publish, non-empty
     * @return this builder
     */
    public Builder grpcHost(String host) {
      Objects.requireNonNull(host, "host");
      if (host.isEmpty()) {
        throw new IllegalArgumentException("grpcHost is empty, expected a host name or address");
      }
      this.grpcHost = host;
      return this;
    }

    /**
     * @param port 0 to 65535 (0 = any free port)
     * @return this builder
     */
    public Builder grpcPort(int port) {
      this.grpcPort = check("grpcPort", port, 0, 65535);
      return this;
    }

    /**
     * @param millis read lease, 1 ms to 1 day
     * @return this builder
     */
    public Builder readLeaseMillis(long millis) {
      this.readLeaseMillis = check("readLeaseMillis", millis, 1, 86_400_000L);
      return this;
    }

    /**
     * @param millis put lease, 1 ms to 1 day
     * @return this builder
     */
    public Builder putLeaseMillis(long millis) {
      this.putLeaseMillis = check("putLeaseMillis", millis, 1, 86_400_000L);
      return this;
    }

    /**
     * @param millis reaper period, 1 ms to 1 minute
     * @return this builder
     */
    public Builder reaperIntervalMillis(long millis) {
      this.reaperIntervalMillis = check("reaperIntervalMillis", millis, 1, 60_000);
      return this;
    }

    /**
     * @param n 1 to 255
     * @return this builder
     */
    public Builder maxShardsPerBlock(int n) {
      this.maxShardsPerBlock = check("maxShardsPerBlock", n, 1, 255);
      return this;
    }

    /**
     * @param h 0 to 1024
     * @return this builder
     */
    public Builder defaultDecodeMargin(int h) {
      this.defaultDecodeMargin = check("defaultDecodeMargin", h, 0, 1024);
      return this;
    }

    /**
     * @param bytes a power of two, 1 to 1 MiB
     * @return this builder
     */
    public Builder allocAlignment(long bytes) {
      check("allocAlignment", bytes, 1, 1 << 20);
      if (Long.bitCount(bytes) != 1) {
        throw new IllegalArgumentException(
            "allocAlignment = " + bytes + ", expected a power of two");
      }
      this.allocAlignment = bytes;
      return this;
    }

    /**
     * @param backups 0 to 8
     * @return this builder
     */
    public Builder cacheBackups(int backups) {
      this.cacheBackups = check("cacheBackups", backups, 0, 8);
      return this;
    }

    /**
     * @param n 1 to 1 000 000
     * @return this builder
     */
    public Builder maxBatchItems(int n) {
      this.maxBatchItems = check("maxBatchItems", n, 1, 1_000_000);
      return this;
    }

    /**
     * @param n 1 to 10 000 000
     * @return this builder
     */
    public Builder maxRegexMatches(int n) {
      this.maxRegexMatches = check("maxRegexMatches", n, 1, 10_000_000);
      return this;
    }

    /**
     * @param n batches committing at once, 1 to 16
     * @return this builder
     */
    public Builder commitConcurrency(int n) {
      this.commitConcurrency = check("commitConcurrency", n, 1, 16);
      return this;
    }

    /** @return the immutable configuration */
    public MasterConfig build() {
      return new MasterConfig(this);
    }

    private static int check(String name, long v, long lo, long hi) {
      if (v < lo || v > hi) {
        throw new IllegalArgumentException(name + " = " + v + ", expected " + lo + ".." + hi);
      }
      return (int) Math.min(v, Integer.MAX_VALUE);
    }
  }
}
