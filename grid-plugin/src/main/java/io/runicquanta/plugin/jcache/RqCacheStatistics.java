package io.runicquanta.plugin.jcache;

import java.util.concurrent.atomic.LongAdder;
import javax.cache.management.CacheStatisticsMXBean;

/** JSR-107 statistics of one cache in this JVM (counts of this JVM's operations). */
final class RqCacheStatistics implements CacheStatisticsMXBean {
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder puts = new LongAdder();
  private final LongAdder removals = new LongAdder();
  private final LongAdder evictions = new LongAdder();
  private final LongAdder getNanos = new LongAdder();
  private final LongAdder putNanos = new LongAdder();
  private final LongAdder removeNanos = new LongAdder();

  void hit(long n) {
    hits.add(n);
  }

  void miss(long n) {
    misses.add(n);
  }

  void put(long n) {
    puts.add(n);
  }

  void removal(long n) {
    removals.add(n);
  }

  void getTime(long nanos) {
    getNanos.add(nanos);
  }

  void putTime(long nanos) {
    putNanos.add(nanos);
  }

  void removeTime(long nanos) {
    removeNanos.add(nanos);
  }

  @Override
  public void clear() {
    for (LongAdder a : new LongAdder[] {hits, misses, puts, removals, evictions, getNanos, putNanos, removeNanos}) {
      a.reset();
    }
  }

  @Override
  public long getCacheHits() {
    return hits.sum();
  }

  @Override
  public float getCacheHitPercentage() {
    long h = getCacheHits();
    long g = getCacheGets();
    return g == 0 ? 0f : (float) h / g * 100f;
  }

  @Override
  public long getCacheMisses() {
    return misses.sum();
  }

  @Override
  public float getCacheMissPercentage() {
    long m = getCacheMisses();
    long g = getCacheGets();
    return g == 0 ? 0f : (float) m / g * 100f;
  }

  @Override
  public long getCacheGets() {
    return hits.sum() + misses.sum();
  }

  @Override
  public long getCachePuts() {
    return puts.sum();
  }

  @Override
  public long getCacheRemovals() {
    return removals.sum();
  }

  @Override
  public long getCacheEvictions() {
    return evictions.sum();
  }

  @Override
  public float getAverageGetTime() {
    long g = getCacheGets();
    return g == 0 ? 0f : getNanos.sum() / 1000f / g;
  }

  @Override
  public float getAveragePutTime() {
    long p = getCachePuts();
    return p == 0 ? 0f : putNanos.sum() / 1000f / p;
  }

  @Override
  public float getAverageRemoveTime() {
    long r = getCacheRemovals();
    return r == 0 ? 0f : removeNanos.sum() / 1000f / r;
  }
}
