package io.runicquanta.master;

import io.grpc.stub.StreamObserver;
import io.runicquanta.master.proto.ItemStatus;
import io.runicquanta.master.proto.BatchGetReplicaListRequest;
import io.runicquanta.master.proto.BatchGetReplicaListResponse;
import io.runicquanta.master.proto.BatchPutEndRequest;
import io.runicquanta.master.proto.BatchPutEndResponse;
import io.runicquanta.master.proto.BatchPutRevokeRequest;
import io.runicquanta.master.proto.BatchPutRevokeResponse;
import io.runicquanta.master.proto.BatchPutStartRequest;
import io.runicquanta.master.proto.BatchPutStartResponse;
import io.runicquanta.master.proto.BatchRemoveRequest;
import io.runicquanta.master.proto.BatchRemoveResponse;
import io.runicquanta.master.proto.Endpoint;
import io.runicquanta.master.proto.GetReplicaListByRegexRequest;
import io.runicquanta.master.proto.GetReplicaListByRegexResponse;
import io.runicquanta.master.proto.GetReplicaListRequest;
import io.runicquanta.master.proto.GetReplicaListResponse;
import io.runicquanta.master.proto.ListSegmentsRequest;
import io.runicquanta.master.proto.ListSegmentsResponse;
import io.runicquanta.master.proto.MasterServiceGrpc;
import io.runicquanta.master.proto.MountSegmentRequest;
import io.runicquanta.master.proto.MountSegmentResponse;
import io.runicquanta.master.proto.PutEndRequest;
import io.runicquanta.master.proto.PutEndResponse;
import io.runicquanta.master.proto.PutRevokeRequest;
import io.runicquanta.master.proto.PutRevokeResponse;
import io.runicquanta.master.proto.PutStartRequest;
import io.runicquanta.master.proto.PutStartResponse;
import io.runicquanta.master.proto.RemoveByRegexRequest;
import io.runicquanta.master.proto.RemoveByRegexResponse;
import io.runicquanta.master.proto.RemoveRequest;
import io.runicquanta.master.proto.RemoveResponse;
import io.runicquanta.master.proto.ReplicaInfo;
import io.runicquanta.master.proto.Segment;
import io.runicquanta.master.proto.UnmountSegmentRequest;
import io.runicquanta.master.proto.UnmountSegmentResponse;
import com.google.protobuf.ByteString;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The gRPC face of {@link MasterCore}: turns requests into calls and results into responses; every
 * failure goes through {@link MasterErrors}. Thread safe.
 */
final class MasterGrpcService extends MasterServiceGrpc.MasterServiceImplBase {
  private final MasterCore core;

  MasterGrpcService(MasterCore core) {
    this.core = core;
  }

  private static <T> void run(StreamObserver<T> obs, Supplier<T> call) {
    T out;
    try {
      out = call.get();
    } catch (Throwable t) {
      obs.onError(MasterErrors.toException(t));
      return;
    }
    obs.onNext(out);
    obs.onCompleted();
  }

  @Override
  public void getReplicaList(GetReplicaListRequest req, StreamObserver<GetReplicaListResponse> obs) {
    run(obs, () -> {
      MasterCore.ReadResult r = core.getReplicaList(req.getKey());
      return GetReplicaListResponse.newBuilder()
          .setReplica(r.replica())
          .setLeaseExpiresUnixMs(r.leaseExpiresMillis())
          .build();
    });
  }

  @Override
  public void getReplicaListByRegex(
      GetReplicaListByRegexRequest req, StreamObserver<GetReplicaListByRegexResponse> obs) {
    run(obs, () -> {
      long[] lease = new long[1];
      List<ReplicaInfo> r = core.getByRegex(req.getKeyRegex(), lease);
      return GetReplicaListByRegexResponse.newBuilder()
          .addAllReplicas(r)
          .setLeaseExpiresUnixMs(lease[0])
          .build();
    });
  }

  @Override
  public void batchGetReplicaList(
      BatchGetReplicaListRequest req, StreamObserver<BatchGetReplicaListResponse> obs) {
    run(obs, () -> {
      long[] lease = new long[1];
      Map<String, Object> r = core.batchGet(req.getKeysList(), lease);
      BatchGetReplicaListResponse.Builder b =
          BatchGetReplicaListResponse.newBuilder().setLeaseExpiresUnixMs(lease[0]);
      for (String k : req.getKeysList()) {
        Object v = r.get(k);
        BatchGetReplicaListResponse.Item.Builder item =
            BatchGetReplicaListResponse.Item.newBuilder().setKey(k);
        if (v instanceof ReplicaInfo ri) {
          item.setStatus(MasterErrors.OK).setReplica(ri);
        } else {
          item.setStatus(MasterErrors.toItemStatus((Throwable) v));
        }
        b.addItems(item);
      }
      return b.build();
    });
  }

  private MasterCore.PutStartResult putStart(PutStartRequest req) {
    var red = req.getRedundancy();
    if (!req.hasRedundancy()) {
      throw MasterException.invalid(
          "PutStart of '" + req.getKey() + "' has no redundancy; expected loss tolerance, block"
              + " size and symbol size");
    }
    return core.putStart(
        req.getKey(),
        req.getSize(),
        red.getLossTolerance(),
        red.getBlockSize(),
        red.getSymbolSize(),
        red.hasDecodeMargin() ? Integer.toUnsignedLong(red.getDecodeMargin()) : -1,
        req.hasPutLeaseMs() ? Integer.toUnsignedLong(req.getPutLeaseMs()) : -1);
  }

  @Override
  public void putStart(PutStartRequest req, StreamObserver<PutStartResponse> obs) {
    run(obs, () -> {
      MasterCore.PutStartResult r = putStart(req);
      return PutStartResponse.newBuilder()
          .setReplica(r.replica())
          .setLeaseExpiresUnixMs(r.leaseExpiresMillis())
          .build();
    });
  }

  @Override
  public void batchPutStart(BatchPutStartRequest req, StreamObserver<BatchPutStartResponse> obs) {
    run(obs, () -> {
      checkBatch(req.getItemsCount());
      BatchPutStartResponse.Builder b = BatchPutStartResponse.newBuilder();
      for (PutStartRequest p : req.getItemsList()) {
        BatchPutStartResponse.Item.Builder item =
            BatchPutStartResponse.Item.newBuilder().setKey(p.getKey());
        try {
          MasterCore.PutStartResult r = putStart(p);
          item.setStatus(MasterErrors.OK)
              .setReplica(r.replica())
              .setLeaseExpiresUnixMs(r.leaseExpiresMillis());
        } catch (RuntimeException e) {
          item.setStatus(MasterErrors.toItemStatus(e));
        }
        b.addItems(item);
      }
      return b.build();
    });
  }

  private static int[] crcs(PutEndRequest req) {
    int[] c = new int[req.getShardCrc32CCount()];
    for (int i = 0; i < c.length; i++) {
      c[i] = req.getShardCrc32C(i);
    }
    return c;
  }

  @Override
  public void putEnd(PutEndRequest req, StreamObserver<PutEndResponse> obs) {
    run(obs, () -> {
      core.putEnd(req.getKey(), crcs(req));
      return PutEndResponse.getDefaultInstance();
    });
  }

  @Override
  public void batchPutEnd(BatchPutEndRequest req, StreamObserver<BatchPutEndResponse> obs) {
    run(obs, () -> {
      checkBatch(req.getItemsCount());
      BatchPutEndResponse.Builder b = BatchPutEndResponse.newBuilder();
      for (PutEndRequest p : req.getItemsList()) {
        b.addItems(BatchPutEndResponse.Item.newBuilder()
            .setKey(p.getKey())
            .setStatus(itemStatus(() -> core.putEnd(p.getKey(), crcs(p)))));
      }
      return b.build();
    });
  }

  @Override
  public void putRevoke(PutRevokeRequest req, StreamObserver<PutRevokeResponse> obs) {
    run(obs, () -> {
      core.putRevoke(req.getKey());
      return PutRevokeResponse.getDefaultInstance();
    });
  }

  @Override
  public void batchPutRevoke(BatchPutRevokeRequest req, StreamObserver<BatchPutRevokeResponse> obs) {
    run(obs, () -> {
      checkBatch(req.getKeysCount());
      BatchPutRevokeResponse.Builder b = BatchPutRevokeResponse.newBuilder();
      for (String k : req.getKeysList()) {
        b.addItems(BatchPutRevokeResponse.Item.newBuilder()
            .setKey(k)
            .setStatus(itemStatus(() -> core.putRevoke(k))));
      }
      return b.build();
    });
  }

  @Override
  public void remove(RemoveRequest req, StreamObserver<RemoveResponse> obs) {
    run(obs, () -> RemoveResponse.newBuilder().setSpaceDeferred(core.remove(req.getKey())).build());
  }

  @Override
  public void batchRemove(BatchRemoveRequest req, StreamObserver<BatchRemoveResponse> obs) {
    run(obs, () -> {
      checkBatch(req.getKeysCount());
      BatchRemoveResponse.Builder b = BatchRemoveResponse.newBuilder();
      for (String k : req.getKeysList()) {
        b.addItems(BatchRemoveResponse.Item.newBuilder()
            .setKey(k)
            .setStatus(itemStatus(() -> core.remove(k))));
      }
      return b.build();
    });
  }

  @Override
  public void removeByRegex(RemoveByRegexRequest req, StreamObserver<RemoveByRegexResponse> obs) {
    run(obs, () -> {
      MasterCore.RemovedKeys r = core.removeByRegex(req.getKeyRegex());
      return RemoveByRegexResponse.newBuilder()
          .setRemovedCount(r.keys().size())
          .addAllKeys(r.keys())
          .build();
    });
  }

  @Override
  public void mountSegment(MountSegmentRequest req, StreamObserver<MountSegmentResponse> obs) {
    run(obs, () -> {
      if (!req.hasSegment()) {
        throw MasterException.invalid("MountSegment has no segment; expected name, node, size, endpoint");
      }
      Segment s = req.getSegment();
      Endpoint ep = s.getEndpoint();
      if (s.getSize() <= 0) {
        throw MasterException.invalid(
            "segment '" + s.getName() + "' size = " + s.getSize() + " bytes; expected a positive size");
      }
      core.mountSegment(
          new SegmentRecord(
              s.getName(),
              s.getNodeId(),
              s.getFailureDomain(),
              s.getSize(),
              ep.getTransport(),
              ep.getAddress(),
              ep.getRemoteKey().toByteArray()));
      return MountSegmentResponse.getDefaultInstance();
    });
  }

  @Override
  public void unmountSegment(UnmountSegmentRequest req, StreamObserver<UnmountSegmentResponse> obs) {
    run(obs, () -> {
      core.unmountSegment(req.getSegmentName());
      return UnmountSegmentResponse.getDefaultInstance();
    });
  }

  @Override
  public void listSegments(ListSegmentsRequest req, StreamObserver<ListSegmentsResponse> obs) {
    run(obs, () -> {
      ListSegmentsResponse.Builder b = ListSegmentsResponse.newBuilder();
      for (MasterCore.SegmentView v : core.listSegments()) {
        SegmentRecord r = v.record();
        b.addSegments(
            ListSegmentsResponse.Item.newBuilder()
                .setSegment(
                    Segment.newBuilder()
                        .setName(r.name())
                        .setNodeId(r.nodeId())
                        .setFailureDomain(r.failureDomain())
                        .setSize(r.sizeBytes())
                        .setEndpoint(
                            Endpoint.newBuilder()
                                .setTransport(r.transport())
                                .setAddress(r.address())
                                .setRemoteKey(ByteString.copyFrom(r.remoteKey()))))
                .setFreeBytes(v.freeBytes())
                .setLiveShards(v.liveShards()));
      }
      return b.build();
    });
  }

  private void checkBatch(int n) {
    core.checkBatchSize(n);
  }

  /**
   * Runs one item of a batch call: OK, or its error mapped exactly as the single call would map it,
   * so one bad item never fails the others.
   */
  private static ItemStatus itemStatus(Runnable action) {
    try {
      action.run();
      return MasterErrors.OK;
    } catch (RuntimeException e) {
      return MasterErrors.toItemStatus(e);
    }
  }
}
