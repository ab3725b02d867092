package io.runicquanta.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.ignite.Ignite;

/**
 * The user API of Runic Quanta on one Ignite node: stash objects into the grid, erasure-coded
 * (RFC 6330 RaptorQ) across the nodes' segments, and reveal them again, byte for byte, after up to
 * m node losses.
 *
 * <h2>Usage</h2>
 *
 * <pre>{@code
 * RqStore rq = RqStore.of(ignite);                       // the node must run the RqPluginProvider
 * rq.stash("trips", root, StashOptions.defaults().releaseSource(true)); // root's buffers freed
 * try (VectorSchemaRoot back = rq.revealTable("trips", allocator)) { ... }
 * }</pre>
 *
 * <p>Objects: a key (1 to 1024 UTF-8 bytes) and a byte sequence. Bytes (streams, channels, files,
 * Arrow IPC files) are stored as they are and revealed byte-identical; an Arrow table ({@link
 * VectorSchemaRoot} or {@link ArrowReader}) is stored as its Arrow IPC stream, so reveal needs no
 * conversion. A stashed object becomes visible to readers atomically when the stash returns; a stash
 * that fails leaves nothing visible and gives its space back.
 *
 * <p>Memory: stash and reveal stream block by block; off-heap memory is bounded by block size x
 * concurrency (see {@link RqPluginConfiguration}), not by the object size, and is accounted to the
 * node's Arrow allocator (reveal's results to the caller's allocator).
 *
 * <p>Thread safety: all methods may be called from many threads at once.
 */
public interface RqStore {

  /**
   * The store of a started node that runs the plugin.
   *
   * @param ignite a started node (server or client) configured with {@link RqPluginConfiguration}
   * @return its store
   * @throws IllegalStateException if the node does not run the Runic Quanta plugin
   */
  static RqStore of(Ignite ignite) {
    return RqPlugin.of(ignite).store();
  }

  /**
   * Stashes the bytes of a stream until its end. The stream is read, not closed.
   *
   * @throws RqException ALREADY_EXISTS, FAILED_PRECONDITION (too few nodes), RESOURCE_EXHAUSTED,
   *     INVALID_ARGUMENT (bad key or options), UNAVAILABLE (nodes lost during the stash)
   * @throws IOException if reading the stream fails (nothing is stored then)
   */
  StashResult stash(String key, InputStream in, StashOptions options) throws IOException;

  /** Stashes the bytes of a channel until its end; the channel is read, not closed. */
  StashResult stash(String key, ReadableByteChannel in, StashOptions options) throws IOException;

  /**
   * Stashes a file's bytes. A file holding an Arrow IPC file or stream is recorded as Arrow data
   * (so {@link #revealTable} and Flight can read it) and still revealed byte-identical.
   */
  StashResult stash(String key, Path file, StashOptions options) throws IOException;

  /**
   * Stashes an Arrow table as its IPC stream (schema, then one record batch). With {@link
   * StashOptions#releaseSource()}, the root's vectors are cleared once the object is stored, so its
   * buffers go back to their allocator (the seed's {@code rq_stash!}).
   */
  StashResult stash(String key, VectorSchemaRoot root, StashOptions options) throws IOException;

  /**
   * Stashes every batch an Arrow reader yields, as one IPC stream, loading and encoding batch by
   * batch. The reader is not closed. With {@link StashOptions#releaseSource()} each batch's buffers
   * are released once encoded.
   */
  StashResult stash(String key, ArrowReader reader, StashOptions options) throws IOException;

  /**
   * Stashes a byte array (a convenience over {@link #stash(String, InputStream, StashOptions)}).
   */
  default StashResult stash(String key, byte[] bytes, StashOptions options) {
    try {
      return stash(key, new java.io.ByteArrayInputStream(bytes), options);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // a byte array cannot fail to read
    }
  }

  /**
   * Reveals a whole object into a byte array (for objects below 2 GiB).
   *
   * @throws RqException NOT_FOUND, DATA_LOSS, FAILED_PRECONDITION (2 GiB or more)
   */
  default byte[] revealBytes(String key) {
    long size = stat(key).size();
    if (size > Integer.MAX_VALUE - 16) {
      throw new RqException(RqException.Code.FAILED_PRECONDITION,
          "object '" + key + "' is " + size + " bytes, too large for a byte array; use reveal", null);
    }
    try (InputStream in = reveal(key)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new RqException(RqException.Code.INTERNAL, "reading '" + key + "': " + e.getMessage(), e);
    }
  }

  /** @return true if a complete object has this key */
  default boolean exists(String key) {
    try {
      stat(key);
      return true;
    } catch (RqException e) {
      if (e.code() == RqException.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Opens a stream of the object's bytes, decoding block by block as it is read (blocks are fetched
   * ahead, concurrently). Close it to release its buffers and its read lease.
   *
   * @throws RqException NOT_FOUND, DATA_LOSS (more shards lost than the object tolerates)
   */
  InputStream reveal(String key);

  /**
   * As {@link #reveal} but as a channel, which copies each decoded block straight from off-heap
   * memory into the caller's buffer (no heap copy with a direct buffer). Close it to release its
   * buffers.
   *
   * @throws RqException NOT_FOUND, DATA_LOSS
   */
  ReadableByteChannel revealChannel(String key);

  /**
   * Reveals an object holding Arrow data as one table whose buffers belong to {@code allocator}
   * (all batches concatenated). The caller closes it.
   *
   * @throws RqException NOT_FOUND, DATA_LOSS, FAILED_PRECONDITION (the object is not Arrow data)
   */
  VectorSchemaRoot revealTable(String key, BufferAllocator allocator) throws IOException;

  /** Reveals an object holding Arrow data batch by batch; the caller closes the reader. */
  ArrowReader revealReader(String key, BufferAllocator allocator) throws IOException;

  /**
   * Removes an object and frees its space (after the read leases of readers in progress).
   *
   * @return false if no object had this key
   */
  boolean remove(String key);

  /**
   * @param pattern a regular expression (RE2 syntax) the whole key must match; null or empty for all
   * @return the complete objects whose keys match, sorted by key
   * @throws RqException INVALID_ARGUMENT for a bad pattern
   */
  List<ObjectStat> list(String pattern);

  /**
   * @return size, blocks, loss tolerance and health of one object
   * @throws RqException NOT_FOUND
   */
  ObjectStat stat(String key);

  /** @return nodes, segments, free space and object counts of the grid */
  ClusterStatus status();
}
