package io.runicquanta.master;

import org.apache.ignite.Ignite;
import org.apache.ignite.IgniteCache;
import org.apache.ignite.cache.CacheAtomicityMode;
import org.apache.ignite.cache.CacheMode;
import org.apache.ignite.cache.CacheWriteSynchronizationMode;
import org.apache.ignite.cache.affinity.rendezvous.RendezvousAffinityFunction;
import org.apache.ignite.configuration.CacheConfiguration;

/**
 * Names and configurations of the caches holding the master's state. All are transactional with
 * FULL_SYNC writes, so a committed change is on every backup before the call returns and a failover
 * loses nothing that was acknowledged.
 *
 * <ul>
 *   <li>{@value #SEGMENTS}: segment name to {@link SegmentRecord};
 *   <li>{@value #OBJECTS}: object key to {@link ObjectRecord} (layout, status, put lease); the
 *       shards listed in a record are its allocations;
 *   <li>{@value #RECLAIM}: random id to {@link ReclaimRecord}, allocations of removed objects
 *       waiting for read leases to end;
 *   <li>{@value #ADDRESS}: replicated, key {@value #ADDRESS_KEY} to {@link MasterAddress}.
 * </ul>
 */
public final class MasterCaches {
  /** Segment registry cache. */
  public static final String SEGMENTS = "rq-master-segments";

  /** Objects and layouts cache. */
  public static final String OBJECTS = "rq-master-objects";

  /** Deferred frees cache. */
  public static final String RECLAIM = "rq-master-reclaim";

  /** Master address cache. */
  public static final String ADDRESS = "rq-master-address";

  /** The single key of the address cache. */
  public static final String ADDRESS_KEY = "master";


  private MasterCaches() {}

  static <K, V> CacheConfiguration<K, V> partitioned(String name, int backups) {
    CacheConfiguration<K, V> c = new CacheConfiguration<>(name);
    c.setCacheMode(CacheMode.PARTITIONED);
    c.setAtomicityMode(CacheAtomicityMode.TRANSACTIONAL);
    c.setWriteSynchronizationMode(CacheWriteSynchronizationMode.FULL_SYNC);
    c.setBackups(backups);
    // One partition: every key of the three caches maps to the same primary (and backup), so the
    // master's group-commit transaction, which touches many keys of several caches, involves one
    // primary and commits in one phase instead of a two-phase commit over every node. The master
    // holds all of this state in its own memory anyway, so one node holding it (plus its backups) is
    // no new limit; and one partition makes the exchange after a node failure (and so the master's
    // failover) fast. The partition's primary is the master's own node (MasterAffinity), so a commit
    // is a local prepare plus one round trip to the backup.
    c.setAffinity(new MasterAffinity());
    return c;
  }

  /**
   * Gets (creating if needed) the objects cache.
   *
   * @param ignite a started node
   * @param backups backups if the cache is created here
   * @return the cache
   */
  public static IgniteCache<String, ObjectRecord> objects(Ignite ignite, int backups) {
    return ignite.getOrCreateCache(partitioned(OBJECTS, backups));
  }

  static IgniteCache<String, SegmentRecord> segments(Ignite ignite, int backups) {
    return ignite.getOrCreateCache(partitioned(SEGMENTS, backups));
  }

  static IgniteCache<String, ReclaimRecord> reclaim(Ignite ignite, int backups) {
    return ignite.getOrCreateCache(partitioned(RECLAIM, backups));
  }

  /**
   * Gets (creating if needed) the replicated address cache.
   *
   * @param ignite a started node
   * @return the cache
   */
  public static IgniteCache<String, MasterAddress> address(Ignite ignite) {
    CacheConfiguration<String, MasterAddress> c = new CacheConfiguration<>(ADDRESS);
    c.setCacheMode(CacheMode.REPLICATED);
    c.setAtomicityMode(CacheAtomicityMode.TRANSACTIONAL);
    c.setWriteSynchronizationMode(CacheWriteSynchronizationMode.FULL_SYNC);
    c.setAffinity(new RendezvousAffinityFunction(false, 8));
    return ignite.getOrCreateCache(c);
  }
}
