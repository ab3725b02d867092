package io.runicquanta.codec.rqdir;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.commons.codec.digest.Blake3;

/** Positional file I/O into heap and Arrow buffers. Internal. */
final class FileIo {
  private FileIo() {}

  static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, pos);
      if (n < 0) {
        throw new EOFException("unexpected end of file at " + pos + ", " + dst.remaining() + " bytes short");
      }
      pos += n;
    }
  }

  static void writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
    long pos = position;
    while (src.hasRemaining()) {
      pos += ch.write(src, pos);
    }
  }

  static void read(FileChannel ch, ArrowBuf dst, long index, long length, long position) {
    try {
      long done = 0;
      while (done < length) {
        int chunk = (int) Math.min(length - done, 1 << 30);
        readFully(ch, dst.nioBuffer(index + done, chunk), position + done);
        done += chunk;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void write(FileChannel ch, ArrowBuf src, long index, long length, long position) {
    try {
      long done = 0;
      while (done < length) {
        int chunk = (int) Math.min(length - done, 1 << 30);
        writeFully(ch, src.nioBuffer(index + done, chunk), position + done);
        done += chunk;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** base58 BLAKE3-256 of {@code length} bytes of the file at {@code position}. */
  static String hashRange(FileChannel ch, long position, long length) throws IOException {
    Blake3 h = Blake3.initHash();
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    long done = 0;
    while (done < length) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), length - done));
      readFully(ch, buf, position + done);
      h.update(buf.array(), 0, buf.limit());
      done += buf.limit();
    }
    return SymbolName.of(h);
  }

  /** Deletes a file or directory tree, ignoring what is already gone. */
  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
