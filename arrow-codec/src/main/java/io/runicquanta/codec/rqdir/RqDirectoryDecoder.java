package io.runicquanta.codec.rqdir;

import io.runicquanta.codec.CodecException;
import io.runicquanta.codec.CorruptSymbolException;
import io.runicquanta.codec.InsufficientSymbolsException;
import io.runicquanta.codec.Oti;
import io.runicquanta.codec.PayloadId;
import io.runicquanta.codec.Tasks;
import io.runicquanta.codec.UndecodableBlockException;
import io.runicquanta.codec.raptorq.DecodingPlan;
import io.runicquanta.codec.raptorq.SourceBlockDecoder;
import io.runicquanta.codec.raptorq.WorkspacePool;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.commons.codec.digest.Blake3;

/**
 * Decodes a directory in the RQ library's format (written by this project or by the Rust library)
 * back into the original file.
 *
 * <h2>Procedure</h2>
 *
 * For each block of the layout and each of its source blocks, symbol files are read in layout
 * order. A file is used only if it exists, its BLAKE3-256 digest in base58 equals its name (else it
 * is an erasure: truncated, flipped, replaced), it is 4 + T bytes and its payload id belongs to that
 * source block with an ESI not seen before. A file whose content matches its name but has the wrong
 * size or a payload id of another block was written that way, so the directory is inconsistent:
 * that fails with {@link CorruptSymbolException}. Decoding is first tried with K + 2 symbols (RFC
 * 6330 decoding from K symbols can fail); on {@link UndecodableBlockException} more are read, twice
 * as many each round, until it succeeds or the list runs out ({@link
 * InsufficientSymbolsException}, naming the block and the counts). Each decoded block's bytes are
 * checked against the layout's {@code hash}.
 *
 * <h2>Flat memory</h2>
 *
 * Symbols are read window by window (4 MiB) and their sub-symbols scattered into a staging file
 * next to the output, one region per sub-block (RFC 6330 section 4.4.1.2). The decoding plan,
 * which depends only on K and the ESI list, is built once per source block and replayed for each
 * sub-block on the executor: read the region with one positional read, decode K sub-symbols, and
 * write them with one positional write, since a sub-block's source is contiguous in the original.
 * Memory per running sub-block is about three times the 10 MiB working memory, whatever the file
 * size.
 *
 * <h2>No partial output</h2>
 *
 * The output is written to a temporary file beside it and renamed only when every block decoded
 * and matched its hash; on any failure the temporary and staging files are removed and no output
 * file exists.
 *
 * <p>Thread safety: no shared mutable state between calls. Threads: none of its own.
 */
public final class RqDirectoryDecoder {
  private static final int WINDOW_BYTES = 4 << 20;
  private static final int FIRST_EXTRA = 2;

  private final BufferAllocator allocator;
  private final Executor executor;
  private final int parallelism;

  /**
   * @param allocator pays for sub-block buffers during {@link #decode}; all freed before it returns
   * @param executor runs symbol verification and per-sub-block decoding
   * @param parallelism how many tasks to split symbol verification into, at least 1
   */
  public RqDirectoryDecoder(BufferAllocator allocator, Executor executor, int parallelism) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism = " + parallelism + ", expected >= 1");
    }
    this.allocator = allocator;
    this.executor = executor;
    this.parallelism = parallelism;
  }

  /**
   * Decodes {@code dir} into {@code output}.
   *
   * @param dir the encoded directory (holds the {@code block_<id>} directories); only read
   * @param layoutFile the layout, or null for {@code dir/_raptorq_layout.json}
   * @param output the file to create; must not exist
   * @throws io.runicquanta.codec.LayoutFormatException for a malformed layout
   * @throws InsufficientSymbolsException if a block has too few usable symbols
   * @throws CorruptSymbolException for a file that matches its name but not the layout
   * @throws CodecException if a decoded block does not match its hash
   * @throws FileAlreadyExistsException if the output exists
   * @throws NoSuchFileException if the directory or the layout does not exist
   * @throws IOException on a read or write failure; in every failure case no output file is left
   */
  public RqDecodeResult decode(Path dir, Path layoutFile, Path output) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "encoded directory does not exist");
    }
    Path layoutPath = layoutFile != null ? layoutFile : dir.resolve(RqLayout.FILE_NAME);
    if (!Files.exists(layoutPath)) {
      throw new NoSuchFileException(layoutPath.toString(), null, "layout file not found");
    }
    RqLayout layout = RqLayout.read(layoutPath);
    if (Files.exists(output)) {
      throw new FileAlreadyExistsException(output.toString(), null, "output file already exists; not overwriting it");
    }
    Path abs = output.toAbsolutePath();
    Path parent = abs.getParent();
    Files.createDirectories(parent);
    String tag = Long.toHexString(ThreadLocalRandom.current().nextLong());
    Path tmp = parent.resolve("." + abs.getFileName() + ".rq-partial-" + tag);
    Stats stats = new Stats();
    boolean ok = false;
    // Workspaces reused from block to block (faulted in once), all freed when this call ends.
    try (WorkspacePool pool = new WorkspacePool(allocator);
        FileChannel out =
            FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      for (RqBlockLayout block : layout.blocks()) {
        decodeBlock(dir, block, out, parent, tag, stats, pool);
      }
      Files.move(tmp, output, StandardCopyOption.ATOMIC_MOVE);
      ok = true;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } finally {
      if (!ok) {
        Files.deleteIfExists(tmp);
      }
    }
    return new RqDecodeResult(
        layout.totalSize(), layout.blocks().size(), stats.used.get(), layout.totalSymbols(),
        stats.missing.get(), stats.corrupt.get(), stats.duplicates.get(), stats.retries.get());
  }

  private static final class Stats {
    final AtomicLong used = new AtomicLong();
    final AtomicLong missing = new AtomicLong();
    final AtomicLong corrupt = new AtomicLong();
    final AtomicLong duplicates = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
  }

  private void decodeBlock(
      Path dir, RqBlockLayout block, FileChannel out, Path stagingDir, String tag, Stats stats, WorkspacePool pool)
      throws IOException {
    Oti oti = block.oti();
    Path bdir = dir.resolve(block.directoryName());
    int z = oti.sourceBlockCount();
    List<List<String>> perSbn = new ArrayList<>(z);
    for (int i = 0; i < z; i++) {
      perSbn.add(new ArrayList<>());
    }
    if (z == 1) {
      perSbn.get(0).addAll(block.symbols());
    } else {
      classify(block, bdir, perSbn, stats);
    }
    Blake3 hasher = Blake3.initHash();
    for (int sbn = 0; sbn < z; sbn++) {
      Path staging = stagingDir.resolve(".rq-staging-" + tag + "-" + block.blockId() + "-" + sbn);
      try {
        decodeSourceBlock(block, bdir, sbn, perSbn.get(sbn), out, staging, stats, hasher, pool);
      } finally {
        Files.deleteIfExists(staging);
      }
    }
    if (block.hash() != null) {
      String got = SymbolName.of(hasher);
      if (!got.equals(block.hash())) {
        throw new CodecException(
            "block " + block.blockId() + ": decoded bytes have BLAKE3 " + got + " but the layout's hash is "
                + block.hash() + "; the symbols or the layout are inconsistent");
      }
    }
  }

  /** With several source blocks, sorts the listed files by the SBN in their payload id. */
  private void classify(RqBlockLayout block, Path bdir, List<List<String>> perSbn, Stats stats) throws IOException {
    byte[] head = new byte[PayloadId.BYTES];
    for (String name : block.symbols()) {
      Path p = bdir.resolve(name);
      try (InputStream in = Files.newInputStream(p)) {
        if (in.readNBytes(head, 0, head.length) < head.length) {
          stats.corrupt.incrementAndGet();
          continue;
        }
      } catch (NoSuchFileException e) {
        stats.missing.incrementAndGet();
        continue;
      } catch (IOException e) {
        stats.missing.incrementAndGet();
        continue;
      }
      int sbn = PayloadId.readFrom(head, 0).sourceBlockNumber();
      if (sbn < perSbn.size()) {
        perSbn.get(sbn).add(name);
      } else {
        Verified v = verify(p, name, block, -1);
        if (v.status == Status.CORRUPT || v.status == Status.MISSING) {
          stats.corrupt.incrementAndGet();
        } else {
          throw new CorruptSymbolException(
              "block " + block.blockId() + ": symbol file " + p + " has payload id " + PayloadId.readFrom(head, 0)
                  + " but the block has source blocks 0.." + (perSbn.size() - 1));
        }
      }
    }
  }

  private enum Status { OK, MISSING, CORRUPT }

  private static final class Verified {
    final Status status;
    final byte[] record;
    final int esi;

    Verified(Status status, byte[] record, int esi) {
      this.status = status;
      this.record = record;
      this.esi = esi;
    }
  }

  /**
   * Reads and checks one symbol file. Missing or not matching its name: an erasure. Matching its
   * name but of the wrong size or with another block's payload id: the directory is inconsistent.
   */
  private static Verified verify(Path p, String name, RqBlockLayout block, int sbn) {
    int t = block.oti().symbolSize();
    int expected = PayloadId.BYTES + t;
    byte[] record;
    try {
      long size = Files.size(p);
      if (size > Math.max(expected, 64L << 20)) {
        return new Verified(Status.CORRUPT, null, -1); // far too large to be any symbol: an erasure
      }
      record = Files.readAllBytes(p);
    } catch (IOException e) {
      return new Verified(Status.MISSING, null, -1);
    }
    if (!SymbolName.of(record).equals(name)) {
      return new Verified(Status.CORRUPT, null, -1);
    }
    if (record.length != expected) {
      throw new CorruptSymbolException(
          "block " + block.blockId() + ": symbol file " + p + " is " + record.length + " bytes, expected "
              + expected + " (4-byte payload id + T = " + t + "); it matches its name, so it was written for other parameters");
    }
    PayloadId id = PayloadId.readFrom(record, 0);
    if (sbn >= 0 && id.sourceBlockNumber() != sbn) {
      throw new CorruptSymbolException(
          "block " + block.blockId() + ": symbol file " + p + " has payload id " + id
              + " but is listed for source block " + sbn + " of " + block.oti().sourceBlockCount());
    }
    return new Verified(Status.OK, record, id.encodingSymbolId());
  }

  /**
   * Decodes one source block into {@code out} and feeds its bytes, in order, to {@code hasher}: the
   * calling thread hashes sub-block n as soon as it is written while the executor decodes the next
   * ones, so the block hash costs no extra pass at the end.
   */
  private void decodeSourceBlock(
      RqBlockLayout block, Path bdir, int sbn, List<String> candidates, FileChannel out, Path staging, Stats stats,
      Blake3 hasher, WorkspacePool pool)
      throws IOException {
    Oti oti = block.oti();
    int k = oti.sourceSymbols(sbn);
    int t = oti.symbolSize();
    int subBlocks = oti.subBlockCount();
    int m = candidates.size();
    int window = Math.max(1, WINDOW_BYTES / t);
    byte[] buf = new byte[window * t];
    int[] esis = new int[m];
    Set<Integer> seen = new HashSet<>();
    int used = 0;
    int cursor = 0;
    long missing0 = stats.missing.get();
    long corrupt0 = stats.corrupt.get();
    int target = Math.min(m, k + FIRST_EXTRA);
    int step = FIRST_EXTRA;
    DecodingPlan plan = null;
    try (FileChannel st =
        FileChannel.open(staging, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      while (plan == null) {
        while (used < target && cursor < m) {
          int want = Math.min(window, target - used);
          int take = Math.min(want, m - cursor);
          Verified[] results = new Verified[take];
          final int base = cursor;
          int pieces = Math.min(parallelism, take);
          List<Runnable> tasks = new ArrayList<>(pieces);
          for (int p = 0; p < pieces; p++) {
            final int from = (int) ((long) take * p / pieces);
            final int to = (int) ((long) take * (p + 1) / pieces);
            tasks.add(
                () -> {
                  for (int i = from; i < to; i++) {
                    String name = candidates.get(base + i);
                    results[i] = verify(bdir.resolve(name), name, block, sbn);
                  }
                });
          }
          Tasks.runAll(executor, tasks);
          cursor += take;
          int got = 0;
          for (Verified v : results) {
            if (v.status == Status.MISSING) {
              stats.missing.incrementAndGet();
            } else if (v.status == Status.CORRUPT) {
              stats.corrupt.incrementAndGet();
            } else if (!seen.add(v.esi)) {
              stats.duplicates.incrementAndGet();
            } else {
              for (int n = 0; n < subBlocks; n++) {
                int sub = oti.subSymbolSize(n);
                System.arraycopy(v.record, PayloadId.BYTES + oti.subSymbolOffset(n), buf, window * oti.subSymbolOffset(n) + got * sub, sub);
              }
              esis[used + got] = v.esi;
              got++;
            }
          }
          for (int n = 0; n < subBlocks; n++) {
            int sub = oti.subSymbolSize(n);
            FileIo.writeFully(
                st, ByteBuffer.wrap(buf, window * oti.subSymbolOffset(n), got * sub),
                (long) m * oti.subSymbolOffset(n) + (long) used * sub);
          }
          used += got;
        }
        if (used >= k) {
          try {
            plan = DecodingPlan.build(k, Arrays.copyOf(esis, used));
            break;
          } catch (UndecodableBlockException e) {
            if (cursor >= m) {
              throw insufficient(block, sbn, k, m, used, stats, missing0, corrupt0,
                  "they do not determine the block (RaptorQ needs a few more than K in rare cases)");
            }
            stats.retries.incrementAndGet();
            target = Math.min(m, used + step);
            step *= 2;
          }
        } else if (cursor >= m) {
          throw insufficient(block, sbn, k, m, used, stats, missing0, corrupt0, "at least K are needed");
        }
      }
      stats.used.addAndGet(used);
      final DecodingPlan fplan = plan;
      final int a = used;
      long sourceStart = oti.sourceBlockOffset(sbn);
      List<Runnable> tasks = new ArrayList<>(subBlocks);
      for (int n = 0; n < subBlocks; n++) {
        final int sub = oti.subSymbolSize(n);
        final long region = (long) m * oti.subSymbolOffset(n);
        final long start = sourceStart + (long) k * oti.subSymbolOffset(n); // within the block
        tasks.add(
            () -> {
              try (ArrowBuf in = allocator.buffer((long) a * sub);
                  ArrowBuf dst = allocator.buffer((long) k * sub)) {
                FileIo.read(st, in, 0, (long) a * sub, region);
                SourceBlockDecoder.decode(pool, fplan, sub, in, 0, dst, 0);
                long len = Math.min((long) k * sub, block.size() - start);
                if (len > 0) {
                  FileIo.write(out, dst, 0, len, block.originalOffset() + start);
                }
              }
            });
      }
      List<CompletableFuture<Void>> futures = new ArrayList<>(subBlocks);
      for (Runnable task : tasks) {
        futures.add(CompletableFuture.runAsync(task, executor));
      }
      RuntimeException failure = null;
      byte[] chunk = new byte[1 << 20];
      for (int n = 0; n < subBlocks; n++) {
        try {
          futures.get(n).join();
        } catch (CompletionException | CancellationException e) {
          Throwable c = e.getCause() == null ? e : e.getCause();
          RuntimeException r = c instanceof RuntimeException ? (RuntimeException) c : new CodecException(c.toString(), c);
          if (failure == null) {
            failure = r;
          } else if (failure != r) {
            failure.addSuppressed(r);
          }
          continue;
        }
        if (failure == null) {
          long start = sourceStart + (long) k * oti.subSymbolOffset(n);
          long len = Math.min((long) k * oti.subSymbolSize(n), block.size() - start);
          for (long done = 0; done < len; ) {
            int c = (int) Math.min(chunk.length, len - done);
            FileIo.readFully(out, ByteBuffer.wrap(chunk, 0, c), block.originalOffset() + start + done);
            hasher.update(chunk, 0, c);
            done += c;
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  private static InsufficientSymbolsException insufficient(
      RqBlockLayout block, int sbn, int k, int listed, int used, Stats stats, long missing0, long corrupt0, String why) {
    String where =
        "block " + block.blockId()
            + (block.oti().sourceBlockCount() > 1 ? " (source block " + sbn + ")" : "");
    return new InsufficientSymbolsException(
        where + " cannot be decoded: K = " + k + " source symbols, " + listed + " symbol files listed, only "
            + used + " usable (" + (stats.missing.get() - missing0) + " missing, "
            + (stats.corrupt.get() - corrupt0) + " not matching their name); " + why,
        k, used);
  }
}
