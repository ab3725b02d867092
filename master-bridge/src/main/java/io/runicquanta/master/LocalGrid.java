package io.runicquanta.master;

import java.util.ArrayList;
import java.util.List;
import org.apache.ignite.configuration.DataRegionConfiguration;
import org.apache.ignite.configuration.DataStorageConfiguration;
import org.apache.ignite.configuration.IgniteConfiguration;
import org.apache.ignite.failure.StopNodeFailureHandler;
import org.apache.ignite.logger.slf4j.Slf4jLogger;
import org.apache.ignite.spi.communication.tcp.TcpCommunicationSpi;
import org.apache.ignite.spi.discovery.tcp.TcpDiscoverySpi;
import org.apache.ignite.spi.discovery.tcp.ipfinder.vm.TcpDiscoveryVmIpFinder;

/**
 * Ignite configurations for a grid on 127.0.0.1 only, as tests, benchmarks and single-machine
 * trials need: static discovery over a fixed port range, no thin-client connector, SLF4J logging,
 * a capped data region, {@link StopNodeFailureHandler}, a 10 s failure detection timeout (a node
 * killed outright is noticed sooner: its sockets close), enough for a busy 2-core machine. The work
 * directory is under {@code java.io.tmpdir}.
 *
 * <p>The environment variable {@value #PORT_SHIFT_ENV} (default 0) is added to every discovery and
 * communication port, so that separate grids on one machine (concurrent test runs, two users) stay
 * apart; child processes inherit it with the environment. Sets the system property {@code
 * IGNITE_UPDATE_NOTIFIER=false} if it is unset, so no node looks up ignite.apache.org. Stateless
 * and thread safe.
 */
public final class LocalGrid {
  /** Environment variable whose integer value shifts every port (0..10000). */
  public static final String PORT_SHIFT_ENV = "RQ_GRID_PORT_SHIFT";

  private LocalGrid() {}

  /**
   * @return the port shift from {@value #PORT_SHIFT_ENV}, 0 when unset
   * @throws IllegalArgumentException if it is not an integer in 0..10000
   */
  public static int portShift() {
    String v = System.getenv(PORT_SHIFT_ENV);
    if (v == null || v.isBlank()) {
      return 0;
    }
    try {
      int s = Integer.parseInt(v.trim());
      if (s >= 0 && s <= 10_000) {
        return s;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new IllegalArgumentException(PORT_SHIFT_ENV + " = '" + v + "', expected an integer 0..10000");
  }

  /**
   * @param instanceName Ignite instance name, unique in the JVM
   * @param discoveryPort first discovery port (plus the shift); nodes use {@code discoveryPort .. +portRange-1}
   * @param commPort first communication port, same range
   * @param portRange ports in each range, 1 to 100
   * @param regionMiB default data region cap, MiB (at least 16)
   * @param client true for a client node
   * @return the configuration (the caller may change it before starting a node)
   * @throws IllegalArgumentException for a port range outside 1..100 or a region below 16 MiB
   */
  public static IgniteConfiguration config(
      String instanceName, int discoveryPort, int commPort, int portRange, long regionMiB, boolean client) {
    if (portRange < 1 || portRange > 100) {
      throw new IllegalArgumentException("portRange = " + portRange + ", expected 1..100");
    }
    if (regionMiB < 16) {
      throw new IllegalArgumentException("regionMiB = " + regionMiB + ", expected >= 16");
    }
    int shift = portShift();
    discoveryPort += shift;
    commPort += shift;
    if (System.getProperty("IGNITE_UPDATE_NOTIFIER") == null) {
      System.setProperty("IGNITE_UPDATE_NOTIFIER", "false");
    }
    List<String> addrs = new ArrayList<>();
    addrs.add("127.0.0.1:" + discoveryPort + ".." + (discoveryPort + portRange - 1));
    TcpDiscoverySpi disco = new TcpDiscoverySpi();
    disco.setIpFinder(new TcpDiscoveryVmIpFinder().setAddresses(addrs));
    disco.setLocalAddress("127.0.0.1");
    disco.setLocalPort(discoveryPort);
    disco.setLocalPortRange(portRange - 1);
    TcpCommunicationSpi comm = new TcpCommunicationSpi();
    comm.setLocalAddress("127.0.0.1");
    comm.setLocalPort(commPort);
    comm.setLocalPortRange(portRange - 1);
    DataStorageConfiguration storage = new DataStorageConfiguration();
    storage.setDefaultDataRegionConfiguration(
        new DataRegionConfiguration()
            .setName("default")
            .setInitialSize(16L << 20)
            .setMaxSize(regionMiB << 20));
    storage.setSystemDataRegionConfiguration(
        new org.apache.ignite.configuration.SystemDataRegionConfiguration()
            .setInitialSize(16L << 20)
            .setMaxSize(32L << 20));
    return new IgniteConfiguration()
        .setIgniteInstanceName(instanceName)
        .setWorkDirectory(
            java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "rq-ignite-" + instanceName)
                .toAbsolutePath()
                .toString())
        .setClientMode(client)
        .setLocalHost("127.0.0.1")
        .setDiscoverySpi(disco)
        .setCommunicationSpi(comm)
        .setClientConnectorConfiguration(null)
        .setConnectorConfiguration(null)
        .setDataStorageConfiguration(storage)
        .setGridLogger(new Slf4jLogger())
        .setFailureHandler(new StopNodeFailureHandler())
        .setFailureDetectionTimeout(10_000)
        .setClientFailureDetectionTimeout(10_000)
        .setMetricsLogFrequency(0);
  }
}
