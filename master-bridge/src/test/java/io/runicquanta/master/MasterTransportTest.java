package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.GetReplicaListResponse;
import io.runicquanta.master.proto.ListSegmentsRequest;
import io.runicquanta.master.proto.MasterServiceGrpc;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ignite.Ignite;
import org.apache.ignite.Ignition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The gRPC transport ({@link MasterTransport}): on Linux x86-64 the master's server and {@link
 * MasterClient} run over Netty's native epoll transport, and {@code -Drq.master.transport=nio}
 * gives NIO. "Runs over" is checked where the work happens: the event loop executing the server's
 * handler and the client's response callback ({@link ThreadExecutorMap}) must belong to the group
 * of the expected kind (an epoll event loop can only drive epoll channels, a NIO one only NIO
 * channels). Calls work in every combination of the two, and the groups are stopped with their
 * owners.
 */
class MasterTransportTest {
  private static final boolean LINUX_X86_64 =
      System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")
          && Set.of("amd64", "x86_64").contains(System.getProperty("os.arch", ""));

  /** A canned GetReplicaList that records the executor (event loop) its handler ran on. */
  private static final class Canned extends MasterServiceGrpc.MasterServiceImplBase {
    final Set<EventExecutor> ranOn = ConcurrentHashMap.newKeySet();
    final AtomicInteger served = new AtomicInteger();

    @Override
    public void getReplicaList(GetReplicaListRequest req, StreamObserver<GetReplicaListResponse> out) {
      EventExecutor e = ThreadExecutorMap.currentExecutor();
      if (e != null) {
        ranOn.add(e);
      }
      served.incrementAndGet();
      out.onNext(GetReplicaListResponse.getDefaultInstance());
      out.onCompleted();
    }
  }

  /** Records the executor the client's response callback (onClose) ran on. */
  private static final class WhereClosed implements ClientInterceptor {
    final Set<Object> ranOn = ConcurrentHashMap.newKeySet();

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> m, CallOptions o, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(m, o)) {
        @Override
        public void start(Listener<R> l, Metadata h) {
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(l) {
            @Override
            public void onClose(Status s, Metadata t) {
              EventExecutor e = ThreadExecutorMap.currentExecutor();
              ranOn.add(e == null ? "not an event loop: " + Thread.currentThread().getName() : e);
              super.onClose(s, t);
            }
          }, h);
        }
      };
    }
  }

  private static Class<? extends EventLoopGroup> groupClass(MasterTransport.Kind k) {
    return k == MasterTransport.Kind.EPOLL ? EpollEventLoopGroup.class : NioEventLoopGroup.class;
  }

  private static void requireEpollWhereItMustWork() {
    if (LINUX_X86_64) {
      assertTrue(Epoll.isAvailable(), "native epoll must load on Linux x86-64 (netty-transport-native-epoll"
          + ":linux-x86_64 is a dependency): " + Epoll.unavailabilityCause());
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(Epoll.isAvailable(), "epoll unavailable on this platform");
  }

  @Test
  void defaultIsEpollOnLinuxX86AndNioWhenForced() {
    requireEpollWhereItMustWork();
    assertEquals(MasterTransport.Kind.EPOLL, MasterTransport.select(null));
    assertEquals(MasterTransport.Kind.EPOLL, MasterTransport.select(" Auto "));
    assertEquals(MasterTransport.Kind.EPOLL, MasterTransport.select("epoll"));
    assertEquals(MasterTransport.Kind.NIO, MasterTransport.select("nio"));
  }

  @Test
  void badValuesAreRefusedByName() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MasterTransport.select("kqueue"));
    assertTrue(e.getMessage().contains(MasterTransport.PROPERTY) && e.getMessage().contains("'kqueue'"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> MasterTransport.newGroup(MasterTransport.Kind.NIO, 0, "srv"));
  }

  @ParameterizedTest(name = "server {0}, client {1}")
  @CsvSource({"EPOLL,EPOLL", "NIO,NIO", "EPOLL,NIO", "NIO,EPOLL"})
  @Timeout(60)
  void callsRunOnTheChosenTransportOnBothSides(MasterTransport.Kind srv, MasterTransport.Kind cli)
      throws Exception {
    if (srv == MasterTransport.Kind.EPOLL || cli == MasterTransport.Kind.EPOLL) {
      requireEpollWhereItMustWork();
    }
    Canned impl = new Canned();
    EventLoopGroup g = MasterTransport.newGroup(srv, 2, "srv");
    Server server = MasterTransport.serverBuilder(new InetSocketAddress("127.0.0.1", 0), srv, g)
        .directExecutor()
        .addService(impl)
        .build()
        .start();
    MasterClient c;
    WhereClosed where = new WhereClosed();
    try {
      c = MasterClient.connect("127.0.0.1", server.getPort(), 2, Duration.ofSeconds(30), cli);
      try {
        assertEquals(cli, c.transport());
        List<Thread> ts = new ArrayList<>();
        AtomicInteger failed = new AtomicInteger();
        for (int i = 0; i < 4; i++) {
          Thread t = new Thread(() -> {
            for (int j = 0; j < 25; j++) {
              String key = "k" + j;
              try {
                c.call(s -> s.withInterceptors(where)
                    .getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build()));
              } catch (RuntimeException e) {
                failed.incrementAndGet();
              }
            }
          });
          ts.add(t);
          t.start();
        }
        for (Thread t : ts) {
          t.join();
        }
        assertEquals(0, failed.get(), "failed calls");
        assertEquals(100, impl.served.get());
      } finally {
        c.close();
      }
    } finally {
      server.shutdown().awaitTermination(5, TimeUnit.SECONDS);
      MasterTransport.close(g);
    }
    assertTrue(!impl.ranOn.isEmpty(), "server handler ran on no event loop");
    for (EventExecutor e : impl.ranOn) {
      assertSame(g, e.parent(), "server handler ran on an event loop of another group: " + e);
      assertInstanceOf(groupClass(srv), e.parent());
    }
    assertTrue(!where.ranOn.isEmpty(), "no client callback seen");
    for (Object o : where.ranOn) {
      EventExecutor e = assertInstanceOf(EventExecutor.class, o, String.valueOf(o));
      assertSame(c.eventLoops(), e.parent(), "client callback ran on an event loop of another group: " + e);
      assertInstanceOf(groupClass(cli), e.parent());
    }
    assertTrue(g.isTerminated(), "server event loops left running");
    assertTrue(c.eventLoops().isTerminated(), "client event loops left running after close");
  }

  @Test
  @Timeout(60)
  void forcedNioPropertyGivesNioClient() throws Exception {
    Canned impl = new Canned();
    EventLoopGroup g = MasterTransport.newGroup(MasterTransport.Kind.NIO, 1, "srv");
    Server server = MasterTransport.serverBuilder(
            new InetSocketAddress("127.0.0.1", 0), MasterTransport.Kind.NIO, g)
        .directExecutor()
        .addService(impl)
        .build()
        .start();
    String old = System.getProperty(MasterTransport.PROPERTY);
    try {
      System.setProperty(MasterTransport.PROPERTY, "nio");
      assertEquals(MasterTransport.Kind.NIO, MasterTransport.configured());
      WhereClosed where = new WhereClosed();
      try (MasterClient c = MasterClient.connect("127.0.0.1", server.getPort())) {
        assertEquals(MasterTransport.Kind.NIO, c.transport());
        c.call(s -> s.withInterceptors(where).getReplicaList(GetReplicaListRequest.newBuilder().setKey("a").build()));
        assertInstanceOf(NioEventLoopGroup.class, c.eventLoops());
        assertTrue(!where.ranOn.isEmpty(), "no client callback seen");
        for (Object o : where.ranOn) {
          assertInstanceOf(NioEventLoopGroup.class, assertInstanceOf(EventExecutor.class, o, String.valueOf(o)).parent());
        }
      }
      System.setProperty(MasterTransport.PROPERTY, "bogus");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> MasterClient.connect("127.0.0.1", server.getPort()));
      assertTrue(e.getMessage().contains("'bogus'"), e.getMessage());
    } finally {
      if (old == null) {
        System.clearProperty(MasterTransport.PROPERTY);
      } else {
        System.setProperty(MasterTransport.PROPERTY, old);
      }
      server.shutdown().awaitTermination(5, TimeUnit.SECONDS);
      MasterTransport.close(g);
    }
    assertEquals(1, impl.served.get());
  }

  /**
   * The master service itself (an Ignite node of its own grid, ports 48530+/48630+): its server runs
   * on an epoll group on Linux x86-64, serves a client, and stopping the node stops the group.
   */
  @Test
  @Timeout(120)
  void masterServiceServesOverEpollAndStopsItsEventLoops() throws Exception {
    requireEpollWhereItMustWork();
    EventLoopGroup loops;
    try (TestGrid grid = TestGrid.start("mb-transport", 48530, 48630, 1, TestGrid.TEST_CONFIG)) {
      // the client finds the address, which the master publishes once its server runs
      MasterClient c = grid.client();
      Ignite node = grid.nodes.get(0);
      MasterIgniteService svc = node.services().service(MasterIgniteService.NAME);
      loops = svc.eventLoops();
      assertNotNull(loops, "master's event loops");
      assertInstanceOf(EpollEventLoopGroup.class, loops);
      assertEquals(MasterTransport.Kind.EPOLL, c.transport());
      assertEquals(0, c.call(s -> s.listSegments(ListSegmentsRequest.getDefaultInstance())).getSegmentsCount());
      Ignition.stop(node.name(), true);
      grid.nodes.clear();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!loops.isTerminated() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(loops.isTerminated(), "master's event loops left running after its node stopped");
  }
}
