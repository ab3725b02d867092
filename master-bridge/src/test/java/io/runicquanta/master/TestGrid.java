package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.runicquanta.master.proto.ListSegmentsRequest;
import io.runicquanta.master.proto.ListSegmentsResponse;
import io.runicquanta.master.proto.PutRevokeRequest;
import io.runicquanta.master.proto.RemoveByRegexRequest;
import io.runicquanta.master.proto.UnmountSegmentRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.cache.Cache;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.cache.query.ScanQuery;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * In-process Ignite server nodes on 127.0.0.1 with the master configured. Discovery ports 48500+,
 * communication 48600+ (the shared grid) or a caller-chosen base (grids of their own).
 */
final class TestGrid implements AutoCloseable {
  static final int SHARED_DISCO = 48500;
  static final int SHARED_COMM = 48600;
  static final int RANGE = 10;

  /** Short leases so lease tests and cleanup are quick. */
  static final MasterConfig TEST_CONFIG =
      MasterConfig.builder()
          .readLeaseMillis(500)
          .putLeaseMillis(60_000)
          .reaperIntervalMillis(50)
          .build();

  private static TestGrid shared;

  final List<Ignite> nodes = new ArrayList<>();
  private final String prefix;
  private final int disco;
  private final int comm;
  private final MasterConfig cfg;
  private MasterClient client;

  private TestGrid(String prefix, int disco, int comm, MasterConfig cfg) {
    this.prefix = prefix;
    this.disco = disco;
    this.comm = comm;
    this.cfg = cfg;
  }

  /** @return the grid shared by most test classes: 3 server nodes, started once per JVM */
  static synchronized TestGrid shared() {
    if (shared == null) {
      shared = start("mb-shared", SHARED_DISCO, SHARED_COMM, 3, TEST_CONFIG);
      TestGrid g = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(g::close));
    }
    return shared;
  }

  static TestGrid start(String prefix, int disco, int comm, int servers, MasterConfig cfg) {
    TestGrid g = new TestGrid(prefix, disco, comm, cfg);
    for (int i = 0; i < servers; i++) {
      g.startServer();
    }
    return g;
  }

  Ignite startServer() {
    IgniteConfiguration c =
        LocalGrid.config(prefix + "-" + nodes.size(), disco, comm, RANGE, 32, false);
    c.setServiceConfiguration(MasterIgniteService.configuration(cfg));
    Ignite ig = Ignition.start(c);
    nodes.add(ig);
    return ig;
  }

  synchronized MasterClient client() {
    if (client == null) {
      client = MasterClient.connect(nodes.get(0), Duration.ofSeconds(30));
    }
    return client;
  }

  /** @return the master's core, waiting for it to run on one of the live nodes */
  MasterCore core() {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      for (Ignite ig : nodes) {
        try {
          MasterIgniteService s = ig.services().service(MasterIgniteService.NAME);
          if (s != null && s.core() != null) {
            return s.core();
          }
        } catch (RuntimeException e) {
          // node stopping
        }
      }
      sleep(20);
    }
    throw new AssertionError("no master core running after 30 s");
  }

  /** @return the live node hosting the master */
  Ignite masterNode() {
    core();
    for (Ignite ig : nodes) {
      MasterIgniteService s = ig.services().service(MasterIgniteService.NAME);
      if (s != null && s.core() != null) {
        return ig;
      }
    }
    throw new AssertionError("master host not found");
  }

  /** Removes every object and open put, waits for pending frees, unmounts every segment. */
  void reset() {
    MasterClient c = client();
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (true) {
      c.call(s -> s.removeByRegex(RemoveByRegexRequest.newBuilder().setKeyRegex("(?s).*").build()));
      for (Cache.Entry<String, ObjectRecord> e :
          MasterCaches.objects(nodes.get(0), 1).query(new ScanQuery<String, ObjectRecord>())) {
        try {
          c.call(s -> s.putRevoke(PutRevokeRequest.newBuilder().setKey(e.getKey()).build()));
        } catch (StatusRuntimeException ex) {
          // complete or gone meanwhile
        }
      }
      boolean all = true;
      ListSegmentsResponse segs = c.call(s -> s.listSegments(ListSegmentsRequest.getDefaultInstance()));
      for (ListSegmentsResponse.Item it : segs.getSegmentsList()) {
        try {
          c.call(s -> s.unmountSegment(
              UnmountSegmentRequest.newBuilder().setSegmentName(it.getSegment().getName()).build()));
        } catch (StatusRuntimeException ex) {
          if (ex.getStatus().getCode() == Status.Code.NOT_FOUND) {
            continue; // a lost segment the reaper dropped once it held nothing
          }
          if (ex.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) {
            throw ex;
          }
          all = false;
        }
      }
      if (all) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("grid did not become empty in 20 s");
      }
      sleep(50);
    }
    assertEquals(List.of(), core().checkConsistency());
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public synchronized void close() {
    if (client != null) {
      client.close();
      client = null;
    }
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
