package io.runicquanta.transfer;

import io.runicquanta.transfer.spi.TransportRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.memory.BufferAllocator;

/** Configures and builds a {@link TransferEngine}. Not thread safe; build once. */
public final class TransferEngineBuilder {
  private static final AtomicLong ENGINE_IDS = new AtomicLong();

  String name;
  String transport = "local";
  int rails = 1;
  /** 0: the transport's {@link io.runicquanta.transfer.spi.Transport#preferredSliceBytes()}. */
  int sliceBytes;
  long maxBytesInFlight = 64L << 20;
  Duration requestTimeout = Duration.ofSeconds(30);
  BufferAllocator allocator;
  TransportRegistry registry;
  final Map<String, String> options = new HashMap<>();

  TransferEngineBuilder() {}

  /** Engine name (default {@code engine-N}); used in thread names, errors and local addressing. */
  public TransferEngineBuilder name(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("engine name must be non-empty, got " + name);
    }
    this.name = name;
    return this;
  }

  /** Transport name: {@code local}, {@code tcp}, {@code fabric} or another registered provider. */
  public TransferEngineBuilder transport(String transport) {
    if (transport == null || transport.isEmpty()) {
      throw new IllegalArgumentException("transport must be non-empty, got " + transport);
    }
    this.transport = transport;
    return this;
  }

  /** Number of rails (connections, endpoints or NICs), 1..64; default 1. */
  public TransferEngineBuilder rails(int rails) {
    if (rails < 1 || rails > 64) {
      throw new IllegalArgumentException("rails must be 1..64, got " + rails);
    }
    this.rails = rails;
    return this;
  }

  /**
   * Largest slice in bytes, 4 KiB..1 GiB. Set, every request is cut into slices of exactly this size
   * (the last one shorter). Unset (the default), the transport chooses (local 1 MiB, tcp 1 MiB,
   * fabric 64 KiB) and a request is also cut into at least one slice per rail, and slices are kept
   * small enough for two per rail to fit in {@link #maxBytesInFlight(long)} (never below 64 KiB).
   */
  public TransferEngineBuilder sliceBytes(int sliceBytes) {
    if (sliceBytes < 4096 || sliceBytes > (1 << 30)) {
      throw new IllegalArgumentException("sliceBytes must be 4096..2^30, got " + sliceBytes);
    }
    this.sliceBytes = sliceBytes;
    return this;
  }

  /** Bound on bytes of slices in flight across all batches; default 64 MiB. */
  public TransferEngineBuilder maxBytesInFlight(long maxBytesInFlight) {
    if (maxBytesInFlight < 1) {
      throw new IllegalArgumentException("maxBytesInFlight must be >= 1, got " + maxBytesInFlight);
    }
    this.maxBytesInFlight = maxBytesInFlight;
    return this;
  }

  /** Default timeout per request, from submission to completion; default 30 s. */
  public TransferEngineBuilder requestTimeout(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("requestTimeout must be positive, got " + timeout);
    }
    this.requestTimeout = timeout;
    return this;
  }

  /**
   * Allocator the engine takes a child from for the segments it allocates (required). The caller
   * keeps owning it and closes it after the engine.
   */
  public TransferEngineBuilder allocator(BufferAllocator allocator) {
    this.allocator = allocator;
    return this;
  }

  /** A transport option, e.g. {@code tcp.host=127.0.0.1} or {@code fabric.provider=shm}. */
  public TransferEngineBuilder option(String key, String value) {
    if (key == null || value == null) {
      throw new IllegalArgumentException("option key and value must be non-null");
    }
    options.put(key, value);
    return this;
  }

  /** Registry to find the transport in; default {@link TransportRegistry#fromServiceLoader()}. */
  public TransferEngineBuilder registry(TransportRegistry registry) {
    this.registry = registry;
    return this;
  }

  /**
   * Opens the transport and starts the engine. The caller owns the result and must close it.
   *
   * @throws IllegalArgumentException if no allocator was set or the transport is unknown
   * @throws TransportUnavailableException if the transport cannot run on this machine
   */
  public TransferEngine build() {
    if (allocator == null) {
      throw new IllegalArgumentException("allocator must be set");
    }
    if (name == null) {
      name = "engine-" + ENGINE_IDS.incrementAndGet();
    }
    if (registry == null) {
      registry = TransportRegistry.fromServiceLoader();
    }
    return new DefaultTransferEngine(this);
  }
}
