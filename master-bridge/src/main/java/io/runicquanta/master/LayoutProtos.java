package io.runicquanta.master;

import io.runicquanta.codec.layout.BlockLayout;
import io.runicquanta.codec.layout.ObjectLayout;
import io.runicquanta.codec.layout.ShardLayout;
import io.runicquanta.master.proto.BlockPlacement;
import io.runicquanta.master.proto.BufHandle;
import io.runicquanta.master.proto.ReplicaInfo;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts between the protobuf placement messages ({@link ReplicaInfo}, {@link BlockPlacement},
 * {@link BufHandle}) and the layout value types of {@code io.runicquanta.codec.layout}. Stateless
 * and thread safe.
 */
public final class LayoutProtos {
  private LayoutProtos() {}

  /**
   * @param layout a layout
   * @param status the object status to record
   * @return the protobuf form; shard status is COMPLETE for a complete object and INIT otherwise
   */
  public static ReplicaInfo toProto(ObjectLayout layout, ReplicaInfo.ReplicaStatus status) {
    BufHandle.BufStatus shardStatus =
        status == ReplicaInfo.ReplicaStatus.COMPLETE
            ? BufHandle.BufStatus.COMPLETE
            : BufHandle.BufStatus.INIT;
    ReplicaInfo.Builder r =
        ReplicaInfo.newBuilder()
            .setKey(layout.key())
            .setSize(layout.size())
            .setOti(ByteString.copyFrom(layout.oti()))
            .setLossTolerance(layout.lossTolerance())
            .setStatus(status);
    for (BlockLayout b : layout.blocks()) {
      BlockPlacement.Builder bp =
          BlockPlacement.newBuilder()
              .setBlockId(b.id())
              .setOffset(b.offset())
              .setSize(b.size())
              .setK(b.k());
      for (ShardLayout s : b.shards()) {
        bp.addShards(
            BufHandle.newBuilder()
                .setSegmentName(s.segment())
                .setOffset(s.offset())
                .setSize(s.length())
                .setFirstEsi(s.firstEsi())
                .setEsiCount(s.esiCount())
                .setCrc32C(s.crc32c())
                .setStatus(shardStatus));
      }
      r.addBlocks(bp);
    }
    return r.build();
  }

  /**
   * @param info a protobuf placement
   * @return the layout it describes
   * @throws IllegalArgumentException if a field is out of range (the message names it), for
   *     example an OTI that is not 12 bytes or a shard without symbols
   */
  public static ObjectLayout fromProto(ReplicaInfo info) {
    List<BlockLayout> blocks = new ArrayList<>(info.getBlocksCount());
    for (BlockPlacement b : info.getBlocksList()) {
      List<ShardLayout> shards = new ArrayList<>(b.getShardsCount());
      for (BufHandle h : b.getShardsList()) {
        shards.add(
            new ShardLayout(
                h.getSegmentName(),
                h.getOffset(),
                h.getSize(),
                h.getFirstEsi(),
                h.getEsiCount(),
                h.getCrc32C()));
      }
      blocks.add(new BlockLayout(b.getBlockId(), b.getOffset(), b.getSize(), b.getK(), shards));
    }
    return new ObjectLayout(
        info.getKey(), info.getSize(), info.getOti().toByteArray(), info.getLossTolerance(), blocks);
  }

  /**
   * Sets status and checksums on a stored placement.
   *
   * @param stored the placement as stored (status and checksums unset)
   * @param status the status to report
   * @param crcs per-shard checksums in layout order, or null to leave them 0
   * @return the placement to hand out
   */
  static ReplicaInfo withStatus(ReplicaInfo stored, ReplicaInfo.ReplicaStatus status, int[] crcs) {
    BufHandle.BufStatus shardStatus =
        status == ReplicaInfo.ReplicaStatus.COMPLETE
            ? BufHandle.BufStatus.COMPLETE
            : BufHandle.BufStatus.INIT;
    ReplicaInfo.Builder r = stored.toBuilder().setStatus(status);
    int i = 0;
    for (BlockPlacement.Builder b : r.getBlocksBuilderList()) {
      for (BufHandle.Builder h : b.getShardsBuilderList()) {
        h.setStatus(shardStatus);
        if (crcs != null) {
          h.setCrc32C(crcs[i]);
        }
        i++;
      }
    }
    return r.build();
  }
}
