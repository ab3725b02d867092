package io.runicquanta.cli;

import io.runicquanta.master.LocalGrid;
import java.util.ArrayList;
import java.util.List;
import org.apache.ignite.configuration.IgniteConfiguration;
import org.apache.ignite.spi.communication.tcp.TcpCommunicationSpi;
import org.apache.ignite.spi.discovery.tcp.TcpDiscoverySpi;
import org.apache.ignite.spi.discovery.tcp.ipfinder.vm.TcpDiscoveryVmIpFinder;

/**
 * Where a node or client finds the grid and which addresses and ports it uses itself; turns into an
 * Ignite configuration through {@link LocalGrid#config} (so every port gets the {@code
 * RQ_GRID_PORT_SHIFT} shift, addresses given with {@code --discovery-addresses} included) with the
 * 127.0.0.1 parts replaced by the {@code --local-host} and discovery addresses given.
 *
 * @param discoveryPort first discovery port this node listens on
 * @param commPort first communication port
 * @param portRange ports in each range (a node takes the first free one)
 * @param discoveryAddresses {@code host[:port[..port]]} entries of the grid's discovery; empty for
 *     {@code 127.0.0.1:discoveryPort..discoveryPort+portRange-1}
 * @param localHost the address this node binds and advertises (Ignite, transfer engine)
 * @param regionMiB Ignite data region cap in MiB
 */
record GridSettings(
    int discoveryPort, int commPort, int portRange, List<String> discoveryAddresses, String localHost,
    long regionMiB) {
  /** Ignite's default first discovery port. */
  static final int DEFAULT_DISCOVERY_PORT = 47500;
  /** Ignite's default first communication port. */
  static final int DEFAULT_COMM_PORT = 47100;
  /** Ports per range. */
  static final int DEFAULT_PORT_RANGE = 10;

  GridSettings {
    checkPort("discovery-port", discoveryPort);
    checkPort("comm-port", commPort);
    if (portRange < 1 || portRange > 100) {
      throw new IllegalArgumentException("port-range = " + portRange + ", expected 1..100");
    }
    if (localHost == null || localHost.isBlank()) {
      throw new IllegalArgumentException("local-host must not be empty");
    }
    discoveryAddresses = List.copyOf(discoveryAddresses);
    for (String a : discoveryAddresses) {
      parseAddress(a, 0);
    }
  }

  private static void checkPort(String what, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(what + " = " + port + ", expected 1..65535");
    }
  }

  /**
   * Checks one discovery address and adds {@code shift} to its ports.
   *
   * @param address {@code host}, {@code host:port} or {@code host:port..port} (IPv6 in brackets)
   * @return the address in Ignite's form with shifted ports; a bare host gets the default range
   */
  static String parseAddress(String address, int shift) {
    String a = address.trim();
    String host;
    String ports;
    if (a.startsWith("[")) {
      int end = a.indexOf(']');
      if (end < 0) {
        throw badAddress(address);
      }
      host = a.substring(0, end + 1);
      String rest = a.substring(end + 1);
      if (!rest.isEmpty() && !rest.startsWith(":")) {
        throw badAddress(address);
      }
      ports = rest.isEmpty() ? "" : rest.substring(1);
    } else {
      int c = a.indexOf(':');
      host = c < 0 ? a : a.substring(0, c);
      ports = c < 0 ? "" : a.substring(c + 1);
    }
    if (host.isEmpty() || host.contains(" ") || host.contains(",")) {
      throw badAddress(address);
    }
    if (ports.isEmpty()) {
      int p = DEFAULT_DISCOVERY_PORT + shift;
      return host + ":" + p + ".." + (p + DEFAULT_PORT_RANGE - 1);
    }
    String[] r = ports.split("\\.\\.", -1);
    if (r.length > 2) {
      throw badAddress(address);
    }
    try {
      int from = Integer.parseInt(r[0]);
      int to = r.length == 2 ? Integer.parseInt(r[1]) : from;
      if (from < 1 || to > 65535 || to < from || to - from > 1000) {
        throw badAddress(address);
      }
      return host + ":" + (from + shift) + (to == from ? "" : ".." + (to + shift));
    } catch (NumberFormatException e) {
      throw badAddress(address);
    }
  }

  private static IllegalArgumentException badAddress(String address) {
    return new IllegalArgumentException(
        "discovery address '" + address + "', expected host, host:port or host:port..port"
            + " (e.g. 10.0.0.5:47500..47509)");
  }

  /**
   * Splits a comma-separated list of discovery addresses.
   *
   * @return the entries (checked)
   */
  static List<String> splitAddresses(String list) {
    List<String> out = new ArrayList<>();
    if (list == null) {
      return out;
    }
    for (String s : list.split(",")) {
      if (!s.isBlank()) {
        parseAddress(s, 0);
        out.add(s.trim());
      }
    }
    return out;
  }

  /** @return the discovery addresses as the node uses them (port shift applied) */
  List<String> effectiveAddresses() {
    int shift = LocalGrid.portShift();
    List<String> out = new ArrayList<>();
    if (discoveryAddresses.isEmpty()) {
      int p = discoveryPort + shift;
      out.add("127.0.0.1:" + p + (portRange == 1 ? "" : ".." + (p + portRange - 1)));
    } else {
      for (String a : discoveryAddresses) {
        out.add(parseAddress(a, shift));
      }
    }
    return out;
  }

  /**
   * @param instanceName the Ignite instance name
   * @param client true for a client node
   * @param joinTimeoutMillis how long to wait for the grid (0: Ignite's default, wait forever)
   * @return the Ignite configuration, without plugin configuration
   */
  IgniteConfiguration igniteConfiguration(String instanceName, boolean client, long joinTimeoutMillis) {
    IgniteConfiguration c =
        LocalGrid.config(instanceName, discoveryPort, commPort, portRange, regionMiB, client);
    // LocalGrid binds 127.0.0.1, and Ignite's SPIs keep the first local address set: build fresh
    // SPIs with the same (shifted) ports and this node's address.
    int shift = LocalGrid.portShift();
    TcpDiscoverySpi disco = new TcpDiscoverySpi();
    disco.setIpFinder(new TcpDiscoveryVmIpFinder().setAddresses(effectiveAddresses()));
    disco.setLocalAddress(localHost);
    disco.setLocalPort(discoveryPort + shift);
    disco.setLocalPortRange(portRange - 1);
    if (joinTimeoutMillis > 0) {
      disco.setJoinTimeout(joinTimeoutMillis);
    }
    TcpCommunicationSpi comm = new TcpCommunicationSpi();
    comm.setLocalAddress(localHost);
    comm.setLocalPort(commPort + shift);
    comm.setLocalPortRange(portRange - 1);
    c.setDiscoverySpi(disco);
    c.setCommunicationSpi(comm);
    c.setLocalHost(localHost);
    return c;
  }
}
