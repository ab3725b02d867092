package io.runicquanta.plugin.jcache;

import javax.cache.configuration.CompleteConfiguration;
import javax.cache.management.CacheMXBean;

/** The JSR-107 configuration MXBean of one cache. */
final class RqCacheMXBean implements CacheMXBean {
  private final RqCache<?, ?> cache;

  RqCacheMXBean(RqCache<?, ?> cache) {
    this.cache = cache;
  }

  private CompleteConfiguration<?, ?> c() {
    return cache.getConfiguration(CompleteConfiguration.class);
  }

  @Override
  public String getKeyType() {
    return c().getKeyType().getName();
  }

  @Override
  public String getValueType() {
    return c().getValueType().getName();
  }

  @Override
  public boolean isReadThrough() {
    return c().isReadThrough();
  }

  @Override
  public boolean isWriteThrough() {
    return c().isWriteThrough();
  }

  @Override
  public boolean isStoreByValue() {
    return c().isStoreByValue();
  }

  @Override
  public boolean isStatisticsEnabled() {
    return c().isStatisticsEnabled();
  }

  @Override
  public boolean isManagementEnabled() {
    return c().isManagementEnabled();
  }
}
