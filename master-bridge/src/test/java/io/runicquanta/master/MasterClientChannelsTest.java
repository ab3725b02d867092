package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerTransportFilter;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.GetReplicaListResponse;
import io.runicquanta.master.proto.MasterServiceGrpc;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's connections: calls spread over the configured number of HTTP/2 connections (seen by
 * a real gRPC server as distinct remote addresses), every call answered, all connections closed
 * with the client, and bad channel counts refused with a message naming them.
 */
class MasterClientChannelsTest {
  private Server server;
  private final Set<SocketAddress> callers = ConcurrentHashMap.newKeySet();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger served = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    MasterServiceGrpc.MasterServiceImplBase impl = new MasterServiceGrpc.MasterServiceImplBase() {
      @Override
      public void getReplicaList(GetReplicaListRequest req, StreamObserver<GetReplicaListResponse> out) {
        served.incrementAndGet();
        out.onNext(GetReplicaListResponse.getDefaultInstance());
        out.onCompleted();
      }
    };
    ServerInterceptor who = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        callers.add(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        return next.startCall(call, headers);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(impl, who))
        .addTransportFilter(new ServerTransportFilter() {
          @Override
          public Attributes transportReady(Attributes a) {
            open.incrementAndGet();
            return a;
          }

          @Override
          public void transportTerminated(Attributes a) {
            open.decrementAndGet();
          }
        })
        .build()
        .start();
  }

  @AfterEach
  void stop() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private void callFrom(MasterClient c, int threads, int each) throws Exception {
    List<Thread> ts = new ArrayList<>();
    AtomicInteger failed = new AtomicInteger();
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(() -> {
        for (int j = 0; j < each; j++) {
          try {
            String key = "k" + j;
            c.call(s -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key).build()));
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
  }

  @Test
  void callsSpreadOverEveryConnectionAndCloseClosesThemAll() throws Exception {
    MasterClient c = MasterClient.connect("127.0.0.1", server.getPort(), 4);
    assertEquals(4, c.channels());
    callFrom(c, 8, 25);
    assertEquals(200, served.get());
    assertEquals(4, callers.size(), "distinct client connections seen by the server: " + callers);
    assertEquals(4, open.get(), "connections open at the server");
    c.close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (open.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(0, open.get(), "connections left open after close");
    assertThrows(IllegalStateException.class, () -> c.call(s -> s.getReplicaList(
        GetReplicaListRequest.newBuilder().setKey("x").build())));
  }

  @Test
  void oneChannelIsOneConnection() throws Exception {
    try (MasterClient c = MasterClient.connect("127.0.0.1", server.getPort(), 1)) {
      callFrom(c, 4, 10);
    }
    assertEquals(40, served.get());
    assertEquals(1, callers.size(), "distinct client connections seen by the server: " + callers);
  }

  @Test
  void badChannelCountsAreRefusedByName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MasterClient.connect("127.0.0.1", server.getPort(), 0));
    assertTrue(e.getMessage().contains("1 to 64, got 0"), e.getMessage());
    String old = System.getProperty(MasterClient.CHANNELS_PROPERTY);
    try {
      System.setProperty(MasterClient.CHANNELS_PROPERTY, "four");
      e = assertThrows(IllegalArgumentException.class, MasterClient::defaultChannels);
      assertTrue(e.getMessage().contains(MasterClient.CHANNELS_PROPERTY) && e.getMessage().contains("'four'"),
          e.getMessage());
      System.setProperty(MasterClient.CHANNELS_PROPERTY, "65");
      e = assertThrows(IllegalArgumentException.class, MasterClient::defaultChannels);
      assertTrue(e.getMessage().contains("got 65"), e.getMessage());
      System.setProperty(MasterClient.CHANNELS_PROPERTY, "3");
      assertEquals(3, MasterClient.defaultChannels());
    } finally {
      if (old == null) {
        System.clearProperty(MasterClient.CHANNELS_PROPERTY);
      } else {
        System.setProperty(MasterClient.CHANNELS_PROPERTY, old);
      }
    }
  }
}
