package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.runicquanta.master.proto.BatchGetReplicaListRequest;
import io.runicquanta.master.proto.BatchPutEndRequest;
import io.runicquanta.master.proto.BatchPutStartRequest;
import io.runicquanta.master.proto.BatchRemoveRequest;
import io.runicquanta.master.proto.Endpoint;
import io.runicquanta.master.proto.GetReplicaListByRegexRequest;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.MasterServiceGrpc;
import io.runicquanta.master.proto.MountSegmentRequest;
import io.runicquanta.master.proto.PutEndRequest;
import io.runicquanta.master.proto.PutRevokeRequest;
import io.runicquanta.master.proto.PutStartRequest;
import io.runicquanta.master.proto.Redundancy;
import io.runicquanta.master.proto.RemoveByRegexRequest;
import io.runicquanta.master.proto.RemoveRequest;
import io.runicquanta.master.proto.Segment;
import io.runicquanta.master.proto.UnmountSegmentRequest;
import io.runicquanta.testing.SplitMix64;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Thousands of malformed (and some valid) requests of every kind, from a logged seed: every answer
 * must be OK or a refusal code the API documents (never INTERNAL or UNKNOWN, which would mean a
 * bug), the master must keep serving, and its free space must still match its caches.
 */
class MasterFuzzTest {
  static final Set<Status.Code> REFUSALS = Set.of(
      Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS,
      Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED);

  SplitMix64 rnd;

  int nextInt(int bound) {
    return (int) Math.floorMod(rnd.nextLong(), (long) bound);
  }

  String key() {
    return switch (nextInt(8)) {
      case 0 -> "";
      case 1 -> "x".repeat(1025 + nextInt(3000));
      case 2 -> "\u00e9\u4e2d\ud83d\ude00".repeat(1 + nextInt(300));
      default -> "k" + nextInt(40);
    };
  }

  long size() {
    return switch (nextInt(7)) {
      case 0 -> 0;
      case 1 -> -1 - nextInt(1000);
      case 2 -> Long.MIN_VALUE;
      case 3 -> Long.MAX_VALUE;
      case 4 -> 1L << (20 + nextInt(30));
      default -> 1 + nextInt(200_000);
    };
  }

  Redundancy redundancy() {
    Redundancy.Builder r = Redundancy.newBuilder()
        .setLossTolerance(nextInt(4) == 0 ? (int) rnd.nextLong() : nextInt(4))
        .setBlockSize(nextInt(4) == 0 ? rnd.nextLong() : 1 + nextInt(1 << 18))
        .setSymbolSize(nextInt(4) == 0 ? (int) rnd.nextLong() : 1 + nextInt(70_000));
    if (nextInt(2) == 0) {
      r.setDecodeMargin(nextInt(3) == 0 ? (int) rnd.nextLong() : nextInt(10));
    }
    return r.build();
  }

  String regex() {
    String alphabet = "()[]{}*+?|.^$\\ak/0-9";
    StringBuilder b = new StringBuilder();
    int n = nextInt(4) == 0 ? 5000 : nextInt(20);
    for (int i = 0; i < n; i++) {
      b.append(alphabet.charAt(nextInt(alphabet.length())));
    }
    return b.toString();
  }

  @Test
  void malformedRequestsGetRefusalsAndLeaveStateConsistent() throws Exception {
    TestGrid grid = TestGrid.shared();
    grid.reset();
    MasterClient c = grid.client();
    long seed = System.nanoTime();
    System.out.println("MasterFuzzTest seed " + seed);
    rnd = new SplitMix64(seed);
    MasterServiceGrpc.MasterServiceBlockingStub stub = c.stub();
    // a few valid segments so that some puts get placed
    for (int i = 0; i < 3; i++) {
      c.mountSegment("fz" + i, "fn" + i, "", 4 << 20, "tcp", "127.0.0.1:1", new byte[0]);
    }
    Map<Status.Code, Integer> seen = new EnumMap<>(Status.Code.class);
    int requests = 3000;
    for (int i = 0; i < requests; i++) {
      Status.Code code;
      try {
        one(stub.withDeadlineAfter(30, TimeUnit.SECONDS));
        code = Status.Code.OK;
      } catch (StatusRuntimeException e) {
        code = e.getStatus().getCode();
        if (!REFUSALS.contains(code)) {
          fail("seed " + seed + ", request " + i + ": " + e.getStatus());
        }
        String d = e.getStatus().getDescription();
        assertTrue(d != null && d.length() > 10, "seed " + seed + ": refusal without a message: " + e.getStatus());
      }
      seen.merge(code, 1, Integer::sum);
    }
    System.out.println("MasterFuzzTest outcomes " + seen);
    assertTrue(seen.getOrDefault(Status.Code.INVALID_ARGUMENT, 0) > requests / 4, "mostly malformed: " + seen);
    assertTrue(seen.getOrDefault(Status.Code.OK, 0) > 0, "some valid: " + seen);

    // undecodable bytes: gRPC itself refuses them; the master keeps serving
    garbage(grid, c.address(), seed);

    assertEquals(java.util.List.of(), grid.core().checkConsistency(), "seed " + seed);
    // still serving: a plain call works
    assertEquals(3, c.call(x -> x.listSegments(
        io.runicquanta.master.proto.ListSegmentsRequest.getDefaultInstance())).getSegmentsCount() >= 3 ? 3 : -1);
  }

  private void one(MasterServiceGrpc.MasterServiceBlockingStub s) {
    switch (nextInt(14)) {
      case 0, 1, 2 -> {
        PutStartRequest.Builder p = PutStartRequest.newBuilder().setKey(key()).setSize(size());
        if (nextInt(10) != 0) {
          p.setRedundancy(redundancy());
        }
        if (nextInt(5) == 0) {
          p.setPutLeaseMs((int) rnd.nextLong());
        }
        s.putStart(p.build());
      }
      case 3, 4 -> {
        PutEndRequest.Builder p = PutEndRequest.newBuilder().setKey(key());
        int n = nextInt(20);
        for (int j = 0; j < n; j++) {
          p.addShardCrc32C((int) rnd.nextLong());
        }
        s.putEnd(p.build());
      }
      case 5 -> s.putRevoke(PutRevokeRequest.newBuilder().setKey(key()).build());
      case 6 -> s.getReplicaList(GetReplicaListRequest.newBuilder().setKey(key()).build());
      case 7 -> s.remove(RemoveRequest.newBuilder().setKey(key()).build());
      case 8 -> s.getReplicaListByRegex(GetReplicaListByRegexRequest.newBuilder().setKeyRegex(regex()).build());
      case 9 -> s.removeByRegex(RemoveByRegexRequest.newBuilder().setKeyRegex(nextInt(3) == 0 ? "k1.*" : regex()).build());
      case 10 -> {
        Segment.Builder seg = Segment.newBuilder()
            .setName(nextInt(3) == 0 ? "" : "fz" + nextInt(6))
            .setNodeId(nextInt(4) == 0 ? "" : "fn" + nextInt(6))
            .setFailureDomain(nextInt(3) == 0 ? "d" + nextInt(2) : "")
            .setSize(nextInt(3) == 0 ? rnd.nextLong() : 1 + nextInt(1 << 22));
        if (nextInt(3) != 0) {
          seg.setEndpoint(Endpoint.newBuilder().setTransport(nextInt(4) == 0 ? "" : "tcp")
              .setAddress("127.0.0.1:1").setRemoteKey(ByteString.copyFrom(new byte[nextInt(8)])));
        }
        MountSegmentRequest.Builder m = MountSegmentRequest.newBuilder();
        if (nextInt(10) != 0) {
          m.setSegment(seg);
        }
        s.mountSegment(m.build());
      }
      case 11 -> s.unmountSegment(UnmountSegmentRequest.newBuilder()
          .setSegmentName(nextInt(3) == 0 ? "" : "fz" + nextInt(6)).build());
      case 12 -> {
        BatchPutStartRequest.Builder b = BatchPutStartRequest.newBuilder();
        int n = nextInt(200) == 0 ? 10_001 : nextInt(6);
        for (int j = 0; j < n; j++) {
          b.addItems(PutStartRequest.newBuilder().setKey(key()).setSize(size()).setRedundancy(redundancy()));
        }
        s.batchPutStart(b.build());
        BatchPutEndRequest.Builder e = BatchPutEndRequest.newBuilder();
        for (int j = 0; j < nextInt(4); j++) {
          e.addItems(PutEndRequest.newBuilder().setKey(key()).addShardCrc32C(1));
        }
        s.batchPutEnd(e.build());
      }
      default -> {
        BatchGetReplicaListRequest.Builder g = BatchGetReplicaListRequest.newBuilder();
        BatchRemoveRequest.Builder r = BatchRemoveRequest.newBuilder();
        for (int j = 0; j < nextInt(6); j++) {
          g.addKeys(key());
          r.addKeys(key());
        }
        s.batchGetReplicaList(g.build());
        s.batchRemove(r.build());
      }
    }
  }

  /** Sends random bytes as request messages of several methods. */
  private void garbage(TestGrid grid, MasterAddress a, long seed) throws Exception {
    ManagedChannel ch = NettyChannelBuilder.forAddress(a.host(), a.port()).usePlaintext().build();
    try {
      MethodDescriptor.Marshaller<byte[]> raw = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };
      String[] methods = {"PutStart", "PutEnd", "GetReplicaList", "MountSegment", "BatchPutStart", "RemoveByRegex"};
      for (int i = 0; i < 300; i++) {
        MethodDescriptor<byte[], byte[]> md = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(
                MasterServiceGrpc.SERVICE_NAME, methods[nextInt(methods.length)]))
            .setRequestMarshaller(raw)
            .setResponseMarshaller(raw)
            .build();
        byte[] junk = new byte[nextInt(64)];
        rnd.nextBytes(junk);
        try {
          ClientCalls.blockingUnaryCall(ch, md, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), junk);
        } catch (StatusRuntimeException e) {
          Status.Code code = e.getStatus().getCode();
          // bytes that are not a protobuf message never reach the master: gRPC's own parser
          // refuses them (INTERNAL "Invalid protobuf byte sequence", or UNKNOWN "Application error
          // processing RPC" when the parse failure surfaces in the call listener)
          String d = String.valueOf(e.getStatus().getDescription());
          assertTrue(REFUSALS.contains(code)
              || code == Status.Code.INTERNAL && d.contains("protobuf")
              || code == Status.Code.UNKNOWN && d.contains("Application error processing RPC"),
              "seed " + seed + ": " + e.getStatus());
        }
      }
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
