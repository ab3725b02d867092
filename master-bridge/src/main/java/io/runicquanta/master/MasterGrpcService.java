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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The gRPC face of {@link MasterCore}: turns requests into calls and results into responses; every
 * failure goes through {@link MasterErrors}. Thread safe.
 *
 * <p>The core answers with futures that complete when the call's changes are durable (group
 * commit), so no thread waits for a commit: the single-key calls run where gRPC delivers them (the
 * server uses a direct executor, so on the transport's event loop: they only take the core's lock
 * for microseconds) and reply from the thread that completes the future (the core's committer, or
 * the calling thread when nothing waits). Calls whose work grows with their input (batch and regex
 * calls) run on {@code heavy}, so a big batch never stalls the event loop.
 */
final class MasterGrpcService extends MasterServiceGrpc.MasterServiceImplBase {
  private final MasterCore core;
  private final Executor heavy;

  MasterGrpcService(MasterCore core, Executor heavy) {
    this.core = core;
    this.heavy = heavy;
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Starts a call and replies when its future completes. */
  private static <R, T> void reply(
      StreamObserver<T> obs, Supplier<CompletableFuture<R>> call, Function<R, T> response) {
    CompletableFuture<R> f;
    try {
      f = call.get();
    } catch (Throwable t) {
      obs.onError(MasterErrors.toException(unwrap(t)));
      return;
    }
    f.whenComplete((r, t) -> {
      if (t != null) {
        obs.onError(MasterErrors.toException(unwrap(t)));
        return;
      }
      T out;
      try {
        out = response.apply(r);
      } catch (Throwable e) {
        obs.onError(MasterErrors.toException(e));
        return;
      }
      obs.onNext(out);
      obs.onCompleted();
    });
  }

  /** As {@link #reply}, with the call started on the heavy executor. */
  private <R, T> void replyHeavy(
      StreamObserver<T> obs, Supplier<CompletableFuture<R>> call, Function<R, T> response) {
    reply(obs, () -> CompletableFuture.supplyAsync(call, heavy).thenCompose(f -> f), response);
  }

  /** @return a future of the call, a failed one if it throws before returning its future */
  private static <R> CompletableFuture<R> attempt(Supplier<CompletableFuture<R>> call) {
    try {
      return call.get();
    } catch (Throwable t) {
      return CompletableFuture.failedFuture(t);
    }
  }

  /** @return a future of every item's outcome (the value or the Throwable), in order */
  private static <R> CompletableFuture<List<Object>> all(List<CompletableFuture<R>> items) {
    List<CompletableFuture<Object>> outcomes = new ArrayList<>(items.size());
    for (CompletableFuture<R> f : items) {
      outcomes.add(f.handle((v, t) -> t != null ? unwrap(t) : (Object) v));
    }
    return CompletableFuture.allOf(outcomes.toArray(new CompletableFuture<?>[0]))
        .thenApply(v -> {
          List<Object> out = new ArrayList<>(outcomes.size());
          for (CompletableFuture<Object> f : outcomes) {
            out.add(f.join());
          }
          return out;
        });
  }

  private static ItemStatus status(Object outcome) {
    return outcome instanceof Throwable t ? MasterErrors.toItemStatus(t) : MasterErrors.OK;
  }

  @Override
  public void getReplicaList(GetReplicaListRequest req, StreamObserver<GetReplicaListResponse> obs) {
    reply(obs, () -> core.getReplicaList(req.getKey()),
        r -> GetReplicaListResponse.newBuilder()
            .setReplica(r.replica())
            .setLeaseExpiresUnixMs(r.leaseExpiresMillis())
            .build());
  }

  @Override
  public void getReplicaListByRegex(
      GetReplicaListByRegexRequest req, StreamObserver<GetReplicaListByRegexResponse> obs) {
    replyHeavy(obs, () -> core.getByRegex(req.getKeyRegex()), r -> {
      GetReplicaListByRegexResponse.Builder b =
          GetReplicaListByRegexResponse.newBuilder().setLeaseExpiresUnixMs(r.leaseExpiresMillis());
      for (Object v : r.items().values()) {
        b.addReplicas((ReplicaInfo) v);
      }
      return b.build();
    });
  }

  @Override
  public void batchGetReplicaList(
      BatchGetReplicaListRequest req, StreamObserver<BatchGetReplicaListResponse> obs) {
    replyHeavy(obs, () -> core.batchGet(req.getKeysList()), r -> {
      BatchGetReplicaListResponse.Builder b =
          BatchGetReplicaListResponse.newBuilder().setLeaseExpiresUnixMs(r.leaseExpiresMillis());
      for (String k : req.getKeysList()) {
        Object v = r.items().get(k);
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

  private CompletableFuture<MasterCore.PutStartResult> putStart(PutStartRequest req) {
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
    reply(obs, () -> putStart(req),
        r -> PutStartResponse.newBuilder()
            .setReplica(r.replica())
            .setLeaseExpiresUnixMs(r.leaseExpiresMillis())
            .build());
  }

  @Override
  public void batchPutStart(BatchPutStartRequest req, StreamObserver<BatchPutStartResponse> obs) {
    replyHeavy(obs, () -> {
      checkBatch(req.getItemsCount());
      List<CompletableFuture<MasterCore.PutStartResult>> fs = new ArrayList<>();
      for (PutStartRequest p : req.getItemsList()) {
        fs.add(attempt(() -> putStart(p)));
      }
      return all(fs);
    }, outcomes -> {
      BatchPutStartResponse.Builder b = BatchPutStartResponse.newBuilder();
      for (int i = 0; i < outcomes.size(); i++) {
        BatchPutStartResponse.Item.Builder item =
            BatchPutStartResponse.Item.newBuilder().setKey(req.getItems(i).getKey());
        if (outcomes.get(i) instanceof MasterCore.PutStartResult r) {
          item.setStatus(MasterErrors.OK)
              .setReplica(r.replica())
              .setLeaseExpiresUnixMs(r.leaseExpiresMillis());
        } else {
          item.setStatus(status(outcomes.get(i)));
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
    reply(obs, () -> core.putEnd(req.getKey(), crcs(req)), r -> PutEndResponse.getDefaultInstance());
  }

  @Override
  public void batchPutEnd(BatchPutEndRequest req, StreamObserver<BatchPutEndResponse> obs) {
    replyHeavy(obs, () -> {
      checkBatch(req.getItemsCount());
      List<CompletableFuture<Void>> fs = new ArrayList<>();
      for (PutEndRequest p : req.getItemsList()) {
        fs.add(attempt(() -> core.putEnd(p.getKey(), crcs(p))));
      }
      return all(fs);
    }, outcomes -> {
      BatchPutEndResponse.Builder b = BatchPutEndResponse.newBuilder();
      for (int i = 0; i < outcomes.size(); i++) {
        b.addItems(BatchPutEndResponse.Item.newBuilder()
            .setKey(req.getItems(i).getKey())
            .setStatus(status(outcomes.get(i))));
      }
      return b.build();
    });
  }

  @Override
  public void putRevoke(PutRevokeRequest req, StreamObserver<PutRevokeResponse> obs) {
    reply(obs, () -> core.putRevoke(req.getKey()), r -> PutRevokeResponse.getDefaultInstance());
  }

  @Override
  public void batchPutRevoke(BatchPutRevokeRequest req, StreamObserver<BatchPutRevokeResponse> obs) {
    replyHeavy(obs, () -> {
      checkBatch(req.getKeysCount());
      List<CompletableFuture<Void>> fs = new ArrayList<>();
      for (String k : req.getKeysList()) {
        fs.add(attempt(() -> core.putRevoke(k)));
      }
      return all(fs);
    }, outcomes -> {
      BatchPutRevokeResponse.Builder b = BatchPutRevokeResponse.newBuilder();
      for (int i = 0; i < outcomes.size(); i++) {
        b.addItems(BatchPutRevokeResponse.Item.newBuilder()
            .setKey(req.getKeys(i))
            .setStatus(status(outcomes.get(i))));
      }
      return b.build();
    });
  }

  @Override
  public void remove(RemoveRequest req, StreamObserver<RemoveResponse> obs) {
    reply(obs, () -> core.remove(req.getKey()),
        r -> RemoveResponse.newBuilder().setSpaceDeferred(r).build());
  }

  @Override
  public void batchRemove(BatchRemoveRequest req, StreamObserver<BatchRemoveResponse> obs) {
    replyHeavy(obs, () -> {
      checkBatch(req.getKeysCount());
      List<CompletableFuture<Boolean>> fs = new ArrayList<>();
      for (String k : req.getKeysList()) {
        fs.add(attempt(() -> core.remove(k)));
      }
      return all(fs);
    }, outcomes -> {
      BatchRemoveResponse.Builder b = BatchRemoveResponse.newBuilder();
      for (int i = 0; i < outcomes.size(); i++) {
        b.addItems(BatchRemoveResponse.Item.newBuilder()
            .setKey(req.getKeys(i))
            .setStatus(status(outcomes.get(i))));
      }
      return b.build();
    });
  }

  @Override
  public void removeByRegex(RemoveByRegexRequest req, StreamObserver<RemoveByRegexResponse> obs) {
    replyHeavy(obs, () -> core.removeByRegex(req.getKeyRegex()),
        r -> RemoveByRegexResponse.newBuilder()
            .setRemovedCount(r.keys().size())
            .addAllKeys(r.keys())
            .build());
  }

  @Override
  public void mountSegment(MountSegmentRequest req, StreamObserver<MountSegmentResponse> obs) {
    reply(obs, () -> {
      if (!req.hasSegment()) {
        throw MasterException.invalid("MountSegment has no segment; expected name, node, size, endpoint");
      }
      Segment s = req.getSegment();
      Endpoint ep = s.getEndpoint();
      if (s.getSize() <= 0) {
        throw MasterException.invalid(
            "segment '" + s.getName() + "' size = " + s.getSize() + " bytes; expected a positive size");
      }
      return core.mountSegment(
          new SegmentRecord(
              s.getName(),
              s.getNodeId(),
              s.getFailureDomain(),
              s.getSize(),
              ep.getTransport(),
              ep.getAddress(),
              ep.getRemoteKey().toByteArray()));
    }, r -> MountSegmentResponse.getDefaultInstance());
  }

  @Override
  public void unmountSegment(UnmountSegmentRequest req, StreamObserver<UnmountSegmentResponse> obs) {
    reply(obs, () -> core.unmountSegment(req.getSegmentName()),
        r -> UnmountSegmentResponse.getDefaultInstance());
  }

  @Override
  public void listSegments(ListSegmentsRequest req, StreamObserver<ListSegmentsResponse> obs) {
    reply(obs, core::listSegments, views -> {
      java.util.Set<String> lost = core.lostSegments();
      ListSegmentsResponse.Builder b = ListSegmentsResponse.newBuilder();
      for (MasterCore.SegmentView v : views) {
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
                .setLiveShards(v.liveShards())
                .setLost(lost.contains(r.name())));
      }
      return b.build();
    });
  }

  // ---------------------------------------------------------------- self-healing

  @Override
  public void listDegraded(
      io.runicquanta.master.proto.ListDegradedRequest req,
      StreamObserver<io.runicquanta.master.proto.ListDegradedResponse> obs) {
    replyHeavy(obs, () -> core.listDegraded(req.getLimit(), req.getKeyRegex()), r -> {
      var b = io.runicquanta.master.proto.ListDegradedResponse.newBuilder().setTruncated(r.truncated());
      for (MasterCore.Degraded d : r.items()) {
        b.addItems(io.runicquanta.master.proto.ListDegradedResponse.Item.newBuilder()
            .setKey(d.key())
            .setLostShards(d.lostShards())
            .setTotalShards(d.totalShards())
            .addAllDegradedBlocks(d.blocks())
            .setRepairing(d.repairing()));
      }
      return b.build();
    });
  }

  @Override
  public void repairStart(
      io.runicquanta.master.proto.RepairStartRequest req,
      StreamObserver<io.runicquanta.master.proto.RepairStartResponse> obs) {
    reply(obs, () -> core.repairStart(req.getKey(), req.getBlockId(), req.getLostShardsList(),
            req.hasLeaseMs() ? Integer.toUnsignedLong(req.getLeaseMs()) : -1),
        r -> io.runicquanta.master.proto.RepairStartResponse.newBuilder()
            .setRepairId(r.id())
            .addAllShards(r.shards())
            .setLeaseExpiresUnixMs(r.deadline())
            .setReplica(r.replica())
            .build());
  }

  @Override
  public void repairEnd(
      io.runicquanta.master.proto.RepairEndRequest req,
      StreamObserver<io.runicquanta.master.proto.RepairEndResponse> obs) {
    int[] c = new int[req.getShardCrc32CCount()];
    for (int i = 0; i < c.length; i++) {
      c[i] = req.getShardCrc32C(i);
    }
    reply(obs, () -> core.repairEnd(req.getKey(), req.getBlockId(), req.getRepairId(), c),
        r -> io.runicquanta.master.proto.RepairEndResponse.getDefaultInstance());
  }

  @Override
  public void repairRevoke(
      io.runicquanta.master.proto.RepairRevokeRequest req,
      StreamObserver<io.runicquanta.master.proto.RepairRevokeResponse> obs) {
    reply(obs, () -> core.repairRevoke(req.getKey(), req.getBlockId(), req.getRepairId()),
        r -> io.runicquanta.master.proto.RepairRevokeResponse.getDefaultInstance());
  }

  @Override
  public void reportCorrupt(
      io.runicquanta.master.proto.ReportCorruptRequest req,
      StreamObserver<io.runicquanta.master.proto.ReportCorruptResponse> obs) {
    reply(obs, () -> core.reportCorrupt(req.getKey(), req.getBlockId(), req.getSegmentName(),
            req.getOffset(), req.getReason()),
        r -> io.runicquanta.master.proto.ReportCorruptResponse.newBuilder().setNewlyMarked(r).build());
  }

  private void checkBatch(int n) {
    core.checkBatchSize(n);
  }
}
