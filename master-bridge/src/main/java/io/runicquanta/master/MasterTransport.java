package io.runicquanta.master;

import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty transport under the master's gRPC server ({@link MasterIgniteService}) and {@link
 * MasterClient}'s channels: Netty's native epoll transport on Linux, NIO elsewhere or when told.
 *
 * <p><b>Why chosen here.</b> grpc-netty picks epoll by itself when the native library is on the
 * class path, but only for its shared default event loops, with its own thread counts and names.
 * Both sides here give gRPC an explicit event loop group and the matching channel class, so which
 * transport runs is decided (and logged) in one place, the thread counts are the ones stated
 * below, and the groups are closed with their owner (no threads left behind by a stopped master or
 * a closed client).
 *
 * <p><b>Which transport.</b> The system property {@value #PROPERTY}: {@code auto} (default) is
 * epoll when {@link Epoll#isAvailable()} (Linux with
 * {@code io.netty:netty-transport-native-epoll:linux-x86_64} on the class path), else NIO; {@code
 * nio} forces NIO (to compare the two); {@code epoll} requires epoll and fails, naming Netty's
 * reason, where it is unavailable. The choice and its reason are logged once per JVM. Anything
 * else is refused with a message naming the property.
 *
 * <p><b>Event loop threads.</b> Each HTTP/2 connection is served by one event loop thread for its
 * whole life, on either side. The master's handlers run on that thread (direct executor; they
 * never block), so one client connection is served by one server thread however large the group.
 * The server's group has one thread per available processor, shared by the acceptor and the
 * connections: a master with one client (the benchmark) uses one thread, as it did on gRPC's
 * default group; with many clients (one per grid node) the connections spread over the cores;
 * more threads than cores would only queue for them. A client's group has one thread per
 * connection it opens ({@link MasterClient#channels()}, default 1), so its connections never share
 * a thread and a client costs no idle threads. Thread names: {@code rqm-srv-epoll-*}, {@code
 * rqm-cli-nio-*} and so on (short enough that /proc shows the side and the transport).
 *
 * <p>Measured A/B (epoll against forced NIO, same jar): master-bridge/README.md, "Native epoll
 * transport".
 */
public final class MasterTransport {
  private static final Logger LOG = LoggerFactory.getLogger(MasterTransport.class);

  /** System property: {@code auto} (default), {@code epoll} or {@code nio}. */
  public static final String PROPERTY = "rq.master.transport";

  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

  /** A Netty transport gRPC can run on. */
  public enum Kind {
    /** Netty's native epoll transport (Linux). */
    EPOLL,
    /** Java NIO (every platform). */
    NIO;

    /** @return the lower-case name, as in thread names and {@value #PROPERTY} */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private MasterTransport() {}

  /**
   * @return the transport {@value #PROPERTY} selects (read on every call; the master and each
   *     client read it when they open their transport)
   * @throws IllegalArgumentException if the property is not auto, epoll or nio
   * @throws IllegalStateException if it is epoll and epoll is unavailable
   */
  public static Kind configured() {
    return select(System.getProperty(PROPERTY));
  }

  /**
   * @param value the property's value, null or blank for the default
   * @return the transport it selects; logs the choice and its reason once per distinct outcome
   */
  static Kind select(String value) {
    String v = value == null || value.isBlank() ? "auto" : value.trim().toLowerCase(Locale.ROOT);
    switch (v) {
      case "nio":
        once("gRPC transport: NIO (forced by -D" + PROPERTY + "=nio)");
        return Kind.NIO;
      case "epoll":
        if (!Epoll.isAvailable()) {
          throw new IllegalStateException("system property " + PROPERTY + " = epoll, but Netty's native epoll"
              + " transport is unavailable here: " + Epoll.unavailabilityCause());
        }
        once("gRPC transport: native epoll (required by -D" + PROPERTY + "=epoll)");
        return Kind.EPOLL;
      case "auto":
        if (Epoll.isAvailable()) {
          once("gRPC transport: native epoll (available; -D" + PROPERTY + "=nio forces NIO)");
          return Kind.EPOLL;
        }
        once("gRPC transport: NIO, because Netty's native epoll transport is unavailable: "
            + Epoll.unavailabilityCause());
        return Kind.NIO;
      default:
        throw new IllegalArgumentException(
            "system property " + PROPERTY + " must be auto, epoll or nio, got '" + value + "'");
    }
  }

  private static void once(String msg) {
    if (LOGGED.add(msg)) {
      LOG.info(msg);
    }
  }

  /**
   * @param kind the transport
   * @param threads event loop threads, at least 1
   * @param side "srv" or "cli", for the thread names
   * @return a new event loop group of daemon threads (started lazily by Netty); close it with
   *     {@link #close(EventLoopGroup)}
   */
  static EventLoopGroup newGroup(Kind kind, int threads, String side) {
    if (threads < 1) {
      throw new IllegalArgumentException("event loop threads must be at least 1, got " + threads);
    }
    DefaultThreadFactory tf = new DefaultThreadFactory("rqm-" + side + "-" + kind.label(), true);
    return kind == Kind.EPOLL ? new EpollEventLoopGroup(threads, tf) : new NioEventLoopGroup(threads, tf);
  }

  /** @return the server's event loop threads: one per available processor (class comment) */
  static int serverThreads() {
    return Math.max(1, Runtime.getRuntime().availableProcessors());
  }

  /**
   * @param address where to listen
   * @param kind the transport of {@code group}
   * @param group the acceptor's and the connections' event loops
   * @return a server builder on that transport
   */
  static NettyServerBuilder serverBuilder(InetSocketAddress address, Kind kind, EventLoopGroup group) {
    Class<? extends ServerChannel> type =
        kind == Kind.EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    return NettyServerBuilder.forAddress(address)
        .channelType(type)
        .bossEventLoopGroup(group)
        .workerEventLoopGroup(group);
  }

  /**
   * @param host host
   * @param port port
   * @param kind the transport of {@code group}
   * @param group the connection's event loops
   * @return a channel builder on that transport
   */
  static NettyChannelBuilder channelBuilder(String host, int port, Kind kind, EventLoopGroup group) {
    Class<? extends Channel> type = kind == Kind.EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    return NettyChannelBuilder.forAddress(host, port).channelType(type).eventLoopGroup(group);
  }

  /**
   * Shuts a group down (no quiet period: its channels are closed by then) and waits up to 5 s for
   * its threads to end.
   *
   * @param group a group from {@link #newGroup}, or null
   */
  static void close(EventLoopGroup group) {
    if (group == null) {
      return;
    }
    io.netty.util.concurrent.Future<?> done = group.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    for (io.netty.util.concurrent.EventExecutor e : group) {
      if (e.inEventLoop()) {
        return; // called on one of its own threads: it ends once this task returns
      }
    }
    if (!done.awaitUninterruptibly(10, TimeUnit.SECONDS)) {
      LOG.warn("gRPC event loops did not stop within 10 s");
    }
  }
}
