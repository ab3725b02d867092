package io.runicquanta.master;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.apache.ignite.configuration.IgniteConfiguration;

/**
 * Starts one Ignite server node on 127.0.0.1 that can host the master (a {@link LocalGrid} node
 * with {@link MasterIgniteService} configured), for multi-process tests and benchmarks. Prints
 * {@code READY <pid>} on standard output once the node has joined, then runs until standard input
 * closes or the process is killed.
 *
 * <p>Arguments: {@code name discoveryPort commPort portRange regionMiB readLeaseMillis}; the system
 * property {@code rq.master.commitConcurrency} sets {@link MasterConfig#commitConcurrency()}.
 */
public final class MasterNodeMain {
  private MasterNodeMain() {}

  /**
   * @param args see the class comment
   * @throws Exception if the node fails to start
   */
  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println(
          "usage: MasterNodeMain name discoveryPort commPort portRange regionMiB readLeaseMillis");
      System.exit(2);
    }
    IgniteConfiguration c =
        LocalGrid.config(
            args[0],
            Integer.parseInt(args[1]),
            Integer.parseInt(args[2]),
            Integer.parseInt(args[3]),
            Long.parseLong(args[4]),
            false);
    c.setServiceConfiguration(
        MasterIgniteService.configuration(
            MasterConfig.builder()
                .readLeaseMillis(Long.parseLong(args[5]))
                .commitConcurrency(Integer.getInteger("rq.master.commitConcurrency",
                    MasterConfig.Builder.DEFAULT_COMMIT_CONCURRENCY))
                .build()));
    try (Ignite ignite = Ignition.start(c)) {
      System.out.println("READY " + ProcessHandle.current().pid() + " " + ignite.cluster().localNode().id());
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (in.readLine() != null) {
        // keep running until the parent closes our stdin
      }
    }
  }
}
