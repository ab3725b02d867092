package io.runicquanta.bench.transfer;

import io.runicquanta.transfer.Segment;
import io.runicquanta.transfer.TransferEngine;
import io.runicquanta.transfer.TransferEngineBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.arrow.memory.RootAllocator;

/**
 * The target process of {@link TransferBenchmark}: {@code TransferBenchPeer <transport> <rails>
 * <segmentBytes> [key=value ...]} registers one segment and serves the socket baseline; prints {@code
 * READY <base64 descriptor> <socket port>} and exits when stdin closes or says {@code exit}.
 *
 * <p>Socket baseline protocol (one connection): the client sends an 9-byte command, op (1 = client
 * writes, 2 = client reads) and byte count (int64); for op 1 the peer reads that many bytes into a
 * direct buffer and answers one byte; for op 2 it writes that many bytes from a direct buffer; op 3
 * is a READ with one request per chunk ({@link #serveRequestedReads}).
 */
public final class TransferBenchPeer {
  private TransferBenchPeer() {}

  public static void main(String[] args) throws Exception {
    String transport = args[0];
    int rails = Integer.parseInt(args[1]);
    long size = Long.parseLong(args[2]);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (RootAllocator root = new RootAllocator(Long.MAX_VALUE)) {
      TransferEngineBuilder b = TransferEngine.builder().name("bench-peer").allocator(root).transport(transport).rails(rails);
      for (int i = 3; i < args.length; i++) {
        int eq = args[i].indexOf('=');
        b.option(args[i].substring(0, eq), args[i].substring(eq + 1));
      }
      try (TransferEngine engine = b.build();
          Segment seg = engine.allocateSegment("bench", size);
          ServerSocketChannel server = ServerSocketChannel.open()) {
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        Thread sockets = new Thread(() -> serveSockets(server, size), "bench-socket-baseline");
        sockets.setDaemon(true);
        sockets.start();
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        out.println("READY " + Base64.getEncoder().encodeToString(seg.descriptor().toBytes()) + " " + port);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.trim().equals("exit")) {
          out.println("ERR unknown command " + line);
        }
      }
    }
  }

  /**
   * Op 3: {@code n} requests follow, 16 bytes each (offset int64, length int32, 0 int32); each is
   * answered with {@code length} bytes of memory at {@code offset}, in order. A READ with one request
   * per chunk, as any READ protocol needs, but without headers on the responses, segment lookups or
   * bounds checks: the request-per-chunk variant of the socket baseline ({@code
   * rq.bench.socketReadRequests}).
   */
  static void serveRequestedReads(SocketChannel ch, ByteBuffer mem, long n) throws IOException {
    ByteBuffer req = ByteBuffer.allocateDirect(16 * 256).flip();
    for (long i = 0; i < n; i++) {
      if (req.remaining() < 16) {
        req.compact();
        while (req.position() < 16) {
          if (ch.read(req) < 0) {
            throw new IOException("closed");
          }
        }
        req.flip();
      }
      long off = req.getLong();
      int len = req.getInt();
      req.getInt();
      mem.clear().position((int) off).limit((int) (off + len));
      while (mem.hasRemaining()) {
        ch.write(mem);
      }
    }
  }

  static void serveSockets(ServerSocketChannel server, long size) {
    ByteBuffer mem = ByteBuffer.allocateDirect((int) Math.min(size, 1 << 30));
    ByteBuffer cmd = ByteBuffer.allocateDirect(9);
    ByteBuffer ack = ByteBuffer.allocateDirect(1);
    while (true) {
      try (SocketChannel ch = server.accept()) {
        // As on the client end and as the tcp transport does on both ends; buffer sizes stay the defaults.
        ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        while (true) {
          cmd.clear();
          while (cmd.hasRemaining()) {
            if (ch.read(cmd) < 0) {
              throw new IOException("closed");
            }
          }
          cmd.flip();
          byte op = cmd.get();
          long n = cmd.getLong();
          if (op == 3) {
            serveRequestedReads(ch, mem, n);
            continue;
          }
          for (long left = n; left > 0; ) {
            mem.clear().limit((int) Math.min(mem.capacity(), left));
            int k = op == 1 ? ch.read(mem) : ch.write(mem);
            if (k < 0) {
              throw new IOException("closed");
            }
            left -= k;
          }
          if (op == 1) {
            ack.clear();
            ch.write(ack);
          }
        }
      } catch (IOException e) {
        if (!server.isOpen()) {
          return;
        }
      }
    }
  }
}
