package io.runicquanta.cli;

import java.util.List;
import picocli.CommandLine.Option;

/** How a client command ({@code stash}, {@code reveal}, {@code ls}, {@code rm}, {@code status}) finds the grid. */
final class ClientOptions {
  @Option(
      names = {"-d", "--discovery-addresses"},
      paramLabel = "HOST[:PORT[..PORT]],...",
      split = ",",
      description = "Discovery addresses of the grid's nodes (default: 127.0.0.1 and ports"
          + " --discovery-port..+--port-range-1).")
  List<String> discoveryAddresses = List.of();

  @Option(names = "--discovery-port", defaultValue = "47500", description = "First discovery port of the default address range (default ${DEFAULT-VALUE}).")
  int discoveryPort;

  @Option(names = "--comm-port", defaultValue = "47100", description = "First communication port this client may take (default ${DEFAULT-VALUE}).")
  int commPort;

  @Option(names = "--port-range", defaultValue = "10", description = "Ports in each range (default ${DEFAULT-VALUE}).")
  int portRange;

  @Option(names = "--local-host", defaultValue = "127.0.0.1", description = "Address of this machine the nodes can reach (default ${DEFAULT-VALUE}).")
  String localHost;

  @Option(names = "--transport", defaultValue = "tcp", description = "Transport of the grid: local, tcp or fabric (default ${DEFAULT-VALUE}).")
  String transport;

  @Option(names = "--rails", defaultValue = "1", description = "Transfer rails (connections) per peer (default ${DEFAULT-VALUE}).")
  int rails;

  @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "30", description = "How long to wait for the grid to answer (default ${DEFAULT-VALUE}).")
  int connectTimeoutSeconds;

  GridClient connect() {
    if (connectTimeoutSeconds < 1) {
      throw new IllegalArgumentException("--connect-timeout = " + connectTimeoutSeconds + ", expected >= 1");
    }
    GridSettings s =
        new GridSettings(discoveryPort, commPort, portRange, discoveryAddresses, localHost, 16);
    return GridClient.connect(s, transport, rails, connectTimeoutSeconds * 1000L);
  }
}
