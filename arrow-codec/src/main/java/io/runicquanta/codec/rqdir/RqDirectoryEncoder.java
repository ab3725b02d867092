package io.runicquanta.codec.rqdir;

import io.runicquanta.codec.Oti;
import io.runicquanta.codec.PayloadId;
import io.runicquanta.codec.Tasks;
import io.runicquanta.codec.raptorq.EncodingPlan;
import io.runicquanta.codec.raptorq.SourceBlockEncoder;
import io.runicquanta.codec.raptorq.WorkspacePool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Encodes a file into the RQ library's directory format ({@code _raptorq_layout.json} plus {@code
 * block_<id>/<name>} symbol files), producing the same files and the same layout bytes as the Rust
 * library for the same parameters.
 *
 * <h2>Flat memory: sub-block by sub-block</h2>
 *
 * A block of the layout is one RFC 6330 object; at the library's defaults a multi-GiB block has Z
 * source blocks of hundreds of sub-blocks each (section 4.4.1.2). Each sub-block is an independent
 * code over K sub-symbols that sit contiguously in the source (sub-block n of a source block
 * starts K * (sub-symbol offset of n) bytes into it), and it fits the 10 MiB working memory WS by
 * construction of the OTI (section 4.3). So for each source block the encoder:
 *
 * <ol>
 *   <li>builds the encoding plan once (it depends on K only) and, per sub-block on the executor,
 *       reads that sub-block's bytes with one positional read, computes its intermediate symbols
 *       and writes its K + R encoding sub-symbols, in ESI order, into the sub-block's region of a
 *       staging file (sub-block-major: region n holds sub-symbol n of every encoding symbol);
 *   <li>then assembles the symbol files window by window: for a window of encoding symbols it
 *       reads each region's run of sub-symbols, concatenates them per symbol behind the 4-byte
 *       payload id, hashes the record (BLAKE3-256) and writes it under its base58 name.
 * </ol>
 *
 * Memory in use is about 2 x WS plus a 1 MiB batch per running sub-block, plus a 4 MiB window,
 * independent of the file size; only one staging file and one symbol file are open at a time per
 * thread. The layout is written last, atomically; on failure the block directories this call
 * created are removed, so no layout ever names missing files.
 *
 * <p>Thread safety: one {@code encode} per instance at a time is intended, but instances hold no
 * per-call state, so concurrent calls on different outputs work. Threads: none of its own; the
 * executor runs sub-blocks and symbol assembly, and {@code parallelism} says how many pieces to
 * split assembly work into (use the executor's thread count).
 */
public final class RqDirectoryEncoder {
  private static final int BATCH_BYTES = 1 << 20;
  private static final int WINDOW_BYTES = 4 << 20;

  private final BufferAllocator allocator;
  private final Executor executor;
  private final int parallelism;
  private final RqEncodeOptions options;

  /**
   * @param allocator pays for sub-block buffers during {@link #encode}; all freed before it returns
   * @param executor runs the per-sub-block and per-symbol work
   * @param parallelism how many tasks to split symbol assembly into, at least 1
   * @param options the RQ library's parameters
   */
  public RqDirectoryEncoder(
      BufferAllocator allocator, Executor executor, int parallelism, RqEncodeOptions options) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism = " + parallelism + ", expected >= 1");
    }
    this.allocator = allocator;
    this.executor = executor;
    this.parallelism = parallelism;
    this.options = options;
  }

  /**
   * Encodes {@code input} into {@code outDir} (created if missing).
   *
   * @return the layout written to {@code outDir/_raptorq_layout.json}
   * @throws NoSuchFileException if the input does not exist or is not a regular file
   * @throws IllegalArgumentException if the input is empty
   * @throws FileAlreadyExistsException if {@code outDir} already holds a layout or a {@code
   *     block_*} directory
   * @throws IOException on a read or write failure (what this call created is removed)
   */
  public RqLayout encode(Path input, Path outDir) throws IOException {
    if (!Files.isRegularFile(input)) {
      throw new NoSuchFileException(input.toString(), null, "input file does not exist or is not a regular file");
    }
    long fileSize = Files.size(input);
    if (fileSize == 0) {
      throw new IllegalArgumentException("input file " + input + " is empty; there is nothing to encode");
    }
    Files.createDirectories(outDir);
    Path layoutFile = outDir.resolve(RqLayout.FILE_NAME);
    if (Files.exists(layoutFile)) {
      throw new FileAlreadyExistsException(
          layoutFile.toString(), null, "output directory already holds a layout; choose an empty directory");
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(outDir, "block_*")) {
      for (Path p : ds) {
        throw new FileAlreadyExistsException(
            p.toString(), null, "output directory already holds symbol blocks; choose an empty directory");
      }
    }
    long blockSize = options.blockSizeFor(fileSize);
    List<Path> created = new ArrayList<>();
    boolean ok = false;
    // Workspaces reused from block to block (faulted in once), all freed when this call ends.
    try (WorkspacePool pool = new WorkspacePool(allocator);
        FileChannel in = FileChannel.open(input, StandardOpenOption.READ)) {
      List<RqBlockLayout> blocks = new ArrayList<>();
      long id = 0;
      for (long offset = 0; offset < fileSize; offset += blockSize, id++) {
        long size = Math.min(blockSize, fileSize - offset);
        Path dir = outDir.resolve("block_" + id);
        Files.createDirectory(dir);
        created.add(dir);
        blocks.add(encodeBlock(in, id, offset, size, dir, pool));
      }
      RqLayout layout = new RqLayout(blocks);
      layout.write(layoutFile);
      ok = true;
      return layout;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } finally {
      if (!ok) {
        for (Path p : created) {
          try {
            FileIo.deleteTree(p);
          } catch (IOException suppressed) {
            // best effort: the original failure is what the caller needs to see
          }
        }
      }
    }
  }

  private RqBlockLayout encodeBlock(
      FileChannel in, long id, long offset, long size, Path dir, WorkspacePool pool)
      throws IOException {
    Oti oti = Oti.forRqLibrary(size, options.symbolSize());
    int repair = options.repairSymbols(size);
    // The block hash is one sequential BLAKE3 pass over the block: run it on the executor beside the
    // sub-block work instead of before it, so a core does not sit idle.
    CompletableFuture<String> hash =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return FileIo.hashRange(in, offset, size);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            executor);
    boolean ok = false;
    try {
      List<String> names = new ArrayList<>();
      Map<Integer, EncodingPlan> plans = new HashMap<>();
      for (int sbn = 0; sbn < oti.sourceBlockCount(); sbn++) {
        EncodingPlan plan = plans.computeIfAbsent(oti.sourceSymbols(sbn), EncodingPlan::forSourceSymbols);
        names.addAll(Arrays.asList(encodeSourceBlock(in, offset, size, oti, sbn, plan, repair, dir, pool)));
      }
      RqBlockLayout block = new RqBlockLayout(id, oti, offset, size, names, join(hash));
      ok = true;
      return block;
    } finally {
      if (!ok) {
        try {
          hash.join(); // never leave a task reading the input after a failure
        } catch (RuntimeException ignored) {
          // the original failure is what the caller needs to see
        }
      }
    }
  }

  private static String join(CompletableFuture<String> f) throws IOException {
    try {
      return f.join();
    } catch (CompletionException e) {
      Throwable c = e.getCause();
      if (c instanceof UncheckedIOException) {
        throw ((UncheckedIOException) c).getCause();
      }
      if (c instanceof RuntimeException) {
        throw (RuntimeException) c;
      }
      throw e;
    }
  }

  private String[] encodeSourceBlock(
      FileChannel in, long blockOffset, long blockSize, Oti oti, int sbn, EncodingPlan plan, int repair, Path dir,
      WorkspacePool pool)
      throws IOException {
    final int k = oti.sourceSymbols(sbn);
    final int e = k + repair;
    final int t = oti.symbolSize();
    final int subBlocks = oti.subBlockCount();
    final long sourceStart = blockOffset + oti.sourceBlockOffset(sbn);
    final long blockEnd = blockOffset + blockSize;
    Path staging = dir.resolve(".staging-" + sbn);
    try (FileChannel st =
        FileChannel.open(staging, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      List<Runnable> tasks = new ArrayList<>(subBlocks);
      for (int n = 0; n < subBlocks; n++) {
        final int sub = oti.subSymbolSize(n);
        final long srcPos = sourceStart + (long) k * oti.subSymbolOffset(n);
        final long regionPos = (long) e * oti.subSymbolOffset(n);
        tasks.add(() -> encodeSubBlock(in, st, plan, k, e, sub, srcPos, blockEnd, regionPos, pool));
      }
      Tasks.runAll(executor, tasks);
      return assemble(st, oti, sbn, e, dir);
    } finally {
      Files.deleteIfExists(staging);
    }
  }

  private void encodeSubBlock(
      FileChannel in, FileChannel st, EncodingPlan plan, int k, int e, int sub, long srcPos, long blockEnd, long regionPos,
      WorkspacePool pool) {
    long len = (long) k * sub;
    SourceBlockEncoder enc;
    try (ArrowBuf src = allocator.buffer(len)) {
      long have = Math.max(0, Math.min(len, blockEnd - srcPos));
      FileIo.read(in, src, 0, have, srcPos);
      if (have < len) {
        src.setZero(have, len - have);
      }
      enc = SourceBlockEncoder.create(pool, plan, sub, src, 0, Math.max(0, e - k));
    }
    int batch = Math.max(1, Math.min(e, BATCH_BYTES / sub));
    try (SourceBlockEncoder encoder = enc;
        ArrowBuf out = allocator.buffer((long) batch * sub)) {
      for (int i0 = 0; i0 < e; i0 += batch) {
        int count = Math.min(batch, e - i0);
        for (int i = 0; i < count; i++) {
          encoder.encodeSymbol(i0 + i, out, (long) i * sub);
        }
        FileIo.write(st, out, 0, (long) count * sub, regionPos + (long) i0 * sub);
      }
    }
  }

  private String[] assemble(FileChannel st, Oti oti, int sbn, int e, Path dir) throws IOException {
    int t = oti.symbolSize();
    int subBlocks = oti.subBlockCount();
    int window = Math.max(1, Math.min(e, WINDOW_BYTES / t));
    byte[] buf = new byte[window * t];
    String[] names = new String[e];
    for (int i0 = 0; i0 < e; i0 += window) {
      final int w = Math.min(window, e - i0);
      final int first = i0;
      for (int n = 0; n < subBlocks; n++) {
        int sub = oti.subSymbolSize(n);
        FileIo.readFully(
            st,
            ByteBuffer.wrap(buf, w * oti.subSymbolOffset(n), w * sub),
            (long) e * oti.subSymbolOffset(n) + (long) i0 * sub);
      }
      int pieces = Math.min(parallelism, w);
      List<Runnable> tasks = new ArrayList<>(pieces);
      for (int p = 0; p < pieces; p++) {
        final int from = (int) ((long) w * p / pieces);
        final int to = (int) ((long) w * (p + 1) / pieces);
        tasks.add(
            () -> {
              byte[] record = new byte[PayloadId.BYTES + t];
              for (int i = from; i < to; i++) {
                new PayloadId(sbn, first + i).writeTo(record, 0);
                for (int n = 0; n < subBlocks; n++) {
                  int sub = oti.subSymbolSize(n);
                  System.arraycopy(buf, w * oti.subSymbolOffset(n) + i * sub, record, PayloadId.BYTES + oti.subSymbolOffset(n), sub);
                }
                String name = SymbolName.of(record);
                try {
                  Files.write(dir.resolve(name), record);
                } catch (IOException ex) {
                  throw new UncheckedIOException(ex);
                }
                names[first + i] = name;
              }
            });
      }
      Tasks.runAll(executor, tasks);
    }
    return names;
  }
}
