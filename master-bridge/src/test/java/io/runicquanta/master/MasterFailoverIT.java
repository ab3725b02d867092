package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.codec.layout.ObjectLayout;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three server nodes in separate JVMs; the test JVM is a client node. The process hosting the
 * master is killed with SIGKILL ({@link Process#destroyForcibly()}); another node must serve within
 * 10 s and every layout must still be there.
 */
class MasterFailoverIT {
  static final int DISCO = 48540;
  static final int COMM = 48640;

  static final class Node {
    final Process process;
    final CountDownLatch ready = new CountDownLatch(1);
    volatile long pid;

    Node(Process p) {
      this.process = p;
      Thread t = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(
            new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            if (line.startsWith("READY ")) {
              pid = Long.parseLong(line.split(" ")[1]);
              ready.countDown();
            }
          }
        } catch (Exception e) {
          // process gone
        }
      }, "node-out-" + p.pid());
      t.setDaemon(true);
      t.start();
    }
  }

  static Node launch(String name) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(new File(System.getProperty("java.home"), "bin/java").getPath());
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-DIGNITE_UPDATE_NOTIFIER=false");
    cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    String flags = System.getProperty("rq.jvm.flags", "");
    if (flags.isBlank()) {
      throw new IllegalStateException("system property rq.jvm.flags is not set (pom passes it)");
    }
    cmd.addAll(Arrays.asList(flags.trim().split("\\s+")));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(MasterNodeMain.class.getName());
    cmd.addAll(List.of(name, "" + DISCO, "" + COMM, "10", "32", "2000"));
    File log = new File(System.getProperty("java.io.tmpdir"), name + ".log");
    Process p = new ProcessBuilder(cmd).redirectError(log).start();
    return new Node(p);
  }

  /**
   * Threads that PutStart and PutEnd fresh keys until stopped, remembering what the master
   * acknowledged. A call cut by the failover is retried by {@link MasterClient}; if its first try had
   * committed, the retry answers ALREADY_EXISTS (PutStart) or FAILED_PRECONDITION (PutEnd): such
   * keys are uncertain and only checked for what the retry proves.
   */
  static final class Writers {
    final MasterClient c;
    final List<Thread> threads = new ArrayList<>();
    final Map<String, ObjectLayout> started = new java.util.concurrent.ConcurrentHashMap<>();
    final Map<String, Boolean> ended = new java.util.concurrent.ConcurrentHashMap<>();
    final Map<String, Boolean> uncertain = new java.util.concurrent.ConcurrentHashMap<>();
    final List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
    volatile boolean stop;

    Writers(MasterClient c, int n) {
      this.c = c;
      for (int t = 0; t < n; t++) {
        int id = t;
        threads.add(new Thread(() -> {
          for (int i = 0; !stop; i++) {
            String key = "fw/" + id + "/" + i;
            try {
              started.put(key, c.putStart(key, 5_000, 1, 8192, 256));
            } catch (io.grpc.StatusRuntimeException e) {
              if (e.getStatus().getCode() == io.grpc.Status.Code.ALREADY_EXISTS) {
                uncertain.put(key, true);
              } else {
                unexpected.add(key + " PutStart: " + e.getStatus());
              }
              continue;
            }
            try {
              c.putEnd(key, new int[started.get(key).shardCount()]);
              ended.put(key, true);
            } catch (io.grpc.StatusRuntimeException e) {
              if (e.getStatus().getCode() == io.grpc.Status.Code.FAILED_PRECONDITION
                  && String.valueOf(e.getStatus().getDescription()).contains("already complete")) {
                ended.put(key, true);
              } else {
                unexpected.add(key + " PutEnd: " + e.getStatus());
              }
            }
          }
        }, "writer-" + t));
      }
    }

    void start() {
      threads.forEach(Thread::start);
    }

    void stop() throws InterruptedException {
      stop = true;
      for (Thread t : threads) {
        t.join(60_000);
      }
    }

    void verify(MasterClient c) {
      assertEquals(List.of(), unexpected, "calls refused across the failover");
      assertTrue(ended.size() > 0, "the writers completed no put");
      for (String key : ended.keySet()) {
        assertEquals(started.get(key), c.getReplicaList(key), "acknowledged object " + key);
      }
      for (String key : started.keySet()) {
        if (!ended.containsKey(key)) {
          c.putEnd(key, new int[started.get(key).shardCount()]);
        }
      }
      System.out.println("failover: " + ended.size() + " puts acknowledged by the writers, all kept ("
          + uncertain.size() + " retried PutStarts had committed before the kill)");
    }
  }

  @Test
  @Timeout(300)
  void killingTheMastersProcessLosesNothingAndAnotherNodeServesWithinTenSeconds() throws Exception {
    List<Node> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Node n = launch("mb-fo-" + i);
        nodes.add(n);
        assertTrue(n.ready.await(120, TimeUnit.SECONDS), "node " + i + " did not start");
      }
      try (Ignite client = Ignition.start(LocalGrid.config("mb-fo-client", DISCO, COMM, 10, 16, true));
          MasterClient c = MasterClient.connect(client, Duration.ofSeconds(60))) {
        for (int i = 0; i < 3; i++) {
          c.mountSegment("seg" + i, "node" + i, "", 32 << 20, "tcp", "127.0.0.1:" + (9000 + i), new byte[0]);
        }
        Map<String, ObjectLayout> stored = new HashMap<>();
        for (int i = 0; i < 50; i++) {
          String key = "fo/" + i;
          ObjectLayout l = c.putStart(key, 30_000 + 977L * i, 1, 8192, 256);
          int[] crc = new int[l.shardCount()];
          Arrays.fill(crc, 0xC0FFEE + i);
          c.putEnd(key, crc);
          stored.put(key, c.getReplicaList(key));
        }
        ObjectLayout open = c.putStart("fo/open", 10_000, 1, 8192, 256);

        // writers keep putting while the master dies: whatever they were told must survive
        Writers writers = new Writers(c, 4);
        writers.start();
        TestGrid.sleep(500);

        MasterAddress before = c.address();
        assertEquals(before.nodeId(), primaryId(client), "the master runs on its caches' primary");
        Node host = null;
        for (Node n : nodes) {
          if (n.pid == before.pid()) {
            host = n;
          }
        }
        assertNotNull(host, "master pid " + before.pid() + " is not one of the launched nodes");
        long t0 = System.nanoTime();
        host.process.destroyForcibly();
        assertTrue(host.process.waitFor(10, TimeUnit.SECONDS));

        ObjectLayout first = c.getReplicaList("fo/0");
        long servedMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("failover: new master served " + servedMs + " ms after SIGKILL, at " + c.address());
        assertTrue(servedMs < 10_000, "another node served after " + servedMs + " ms; expected < 10 s");
        assertNotEquals(before.pid(), c.address().pid());
        assertEquals(c.address().nodeId(), primaryId(client), "the new master runs on the new primary");
        assertEquals(stored.get("fo/0"), first);
        TestGrid.sleep(500);
        writers.stop();
        writers.verify(c);
        for (Map.Entry<String, ObjectLayout> e : stored.entrySet()) {
          assertEquals(e.getValue(), c.getReplicaList(e.getKey()), e.getKey());
        }
        c.putEnd("fo/open", new int[open.shardCount()]);
        assertEquals(3, c.call(s -> s.listSegments(
            io.runicquanta.master.proto.ListSegmentsRequest.getDefaultInstance())).getSegmentsCount());
        // the new master's free space is the old one's: new puts never overlap stored shards
        ObjectLayout fresh = c.putStart("fo/after", 100_000, 1, 8192, 256);
        for (var b : fresh.blocks()) {
          for (var s : b.shards()) {
            for (ObjectLayout old : stored.values()) {
              for (var ob : old.blocks()) {
                for (var os : ob.shards()) {
                  if (os.segment().equals(s.segment())) {
                    assertTrue(os.end() <= s.offset() || s.end() <= os.offset(),
                        "new shard " + s + " overlaps " + os);
                  }
                }
              }
            }
          }
        }
      }
    } finally {
      for (Node n : nodes) {
        n.process.destroyForcibly();
      }
      for (Node n : nodes) {
        n.process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** @return the node id of the primary of the master's caches' partition, as the client sees it */
  private static String primaryId(Ignite client) {
    return client.affinity(MasterCaches.OBJECTS).mapPartitionToNode(0).id().toString();
  }
}
