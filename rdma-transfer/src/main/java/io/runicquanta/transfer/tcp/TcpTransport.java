package io.runicquanta.transfer.tcp;

import io.runicquanta.transfer.RailEndpoint;
import io.runicquanta.transfer.RailFailedException;
import io.runicquanta.transfer.TransferException;
import io.runicquanta.transfer.TransferOp;
import io.runicquanta.transfer.TransferRefusedException;
import io.runicquanta.transfer.spi.MemoryRegistration;
import io.runicquanta.transfer.spi.SliceOp;
import io.runicquanta.transfer.spi.TargetSegments;
import io.runicquanta.transfer.spi.Transport;
import io.runicquanta.transfer.spi.TransportContext;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * One-sided READ/WRITE over TCP with Java NIO.
 *
 * <h2>Topology and threads</h2>
 *
 * Each rail listens on its own socket ({@code rq-transfer-<engine>-tcp-accept-r<i>}); its endpoint
 * address is {@code host:port}. The initiator opens one connection per (rail, peer endpoint) on first
 * use. All sockets are non-blocking and driven by a few I/O threads, {@code tcp.ioThreads} of each
 * kind (default {@code min(rails, cores / 2)}, at least 1): initiator loops ({@code tcp-io-<i>},
 * {@link IoLoop}; the connections of rail r go to loop {@code r % n}), each of which writes the
 * requests (and WRITE payloads) of its connections and reads their responses (and READ payloads), and
 * target loops ({@code tcp-serve-<i>}, {@link ServeLoop}) that serve the accepted connections, spread
 * over them. A slice therefore passes no thread hand-off between being sent and being answered, and
 * rails share threads instead of each adding a sender and a receiver on the initiator and a serving
 * thread on the target. A submitting thread queues its slice and wakes the loop (not even that when
 * it is the loop itself, as for the engine's completion callbacks). Every rail still has its own
 * connection, so striping and retry on another rail are unchanged. A connection that breaks fails all
 * its slices with {@link RailFailedException} and is forgotten; the next slice for that peer on that
 * rail connects again. The READ whose payload is being read is known only to its loop, which fails it
 * when the connection fails (also when another thread, such as the stall watchdog, failed it).
 *
 * <h2>Wire format (big-endian)</h2>
 *
 * Request, 36 bytes + name: magic {@code "RQT1"} (int32), op (int8: 1 READ, 2 WRITE), 0 (int8), name
 * length (int16), request id (int64), registration key (int64), segment offset (int64), length
 * (int32), segment name (UTF-8); a WRITE is followed by {@code length} payload bytes. Response, 20
 * bytes + message: magic, status (int8: 0 OK, 1 REFUSED), three zero bytes, request id (int64),
 * message length (int32), message (UTF-8); an OK READ is followed by {@code length} payload bytes.
 * Responses come in request order on a connection; the id is checked anyway.
 *
 * <h2>Target-side checks</h2>
 *
 * Before touching memory the serving loop asks the engine's {@link TargetSegments} to check the
 * name, key, range and open state and to pin the segment. A refused WRITE's payload is read into a
 * small scratch buffer and dropped, so the stream stays in step and no byte lands outside a segment.
 *
 * <h2>Speed</h2>
 *
 * Slices are 1 MiB when the engine may choose ({@link #preferredSliceBytes()}), so headers, responses
 * and completions cost little against the payload. A connection's loop takes every queued
 * request at once and writes all their headers and WRITE payloads in one gathering write, so slices
 * submitted together cost one wake-up, not one each; every slice the engine admits is in flight at
 * once (a 32 MiB batch of 64 KiB READs is 512 outstanding requests on the connection). The target
 * coalesces responses ({@link Responses}): while more requests are already readable it keeps WRITE
 * acknowledgements and READ responses (header plus a view of the payload, segment pinned) and sends
 * them in one gathering write, up to 64 responses or 1 MiB; a READ response used to go out alone,
 * one write call and one short TCP segment per 64 KiB. A payload is read in a scattering read that
 * also takes the bytes behind it into the header buffer, exactly one header when the next response
 * answers a READ (responses come in request order, so the receiver knows), so a stream of 64 KiB
 * READ responses costs one read call each and the payload still lands straight in the segment; the
 * target does the same for WRITE payloads, guessing that the next request names the same segment.
 * Why the shared loops: with a sender, a receiver and a serving thread per rail, 2 and 4 rails of 64
 * KiB READs ran 4 to 8 busy threads on this 2-core machine against the socket copy's 2, and spent
 * about 1.2x to 1.4x the CPU per request of one loop per side (README, transfer section).
 * A rail remembers the connection of the last endpoint it used, so a slice does not build the
 * address string and map key. Sockets on both ends use the system's default buffer sizes with
 * {@code TCP_NODELAY}, like the plain socket copy of the benchmark.
 *
 * <h2>No heap copies</h2>
 *
 * Payload moves between the socket and the segment through direct {@link ByteBuffer} views over the
 * registered memory ({@link #view}: the JDK's private DirectByteBuffer constructor through a constant
 * method handle, Arrow's {@code MemoryUtil.directBuffer} as fallback); headers use per-connection
 * direct buffers, and on the target a per-connection pool of views of them.
 */
final class TcpTransport implements Transport {
  static final int MAGIC_REQ = 0x52515431; // "RQT1"
  static final int MAGIC_RESP = 0x52515452; // "RQTR"
  static final int REQ_HEADER = 36;
  static final int RESP_HEADER = 20;
  static final byte OP_READ = 1;
  static final byte OP_WRITE = 2;
  static final byte OK = 0;
  static final byte REFUSED = 1;
  static final int READ_AHEAD = 4096;
  static final int MAX_BATCH = 64;

  private final TransportContext context;
  private final String host;
  private final Rail[] rails;
  /** Initiator I/O threads; a connection of rail r is driven by loops[r % loops.length]. */
  private final IoLoop[] loops;
  /** Target I/O threads; accepted connections are spread over them. */
  private final ServeLoop[] serveLoops;
  private final ConcurrentHashMap<String, Connection> connections = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final long stallNanos;
  /** SO_SNDBUF / SO_RCVBUF for every socket, 0 for the system default (options tcp.sendBuffer, tcp.receiveBuffer). */
  private final int sendBuffer;
  private final int receiveBuffer;
  /** Payload bytes of coalesced responses that make the target flush (option tcp.responseBytes). */
  private final long responseBytes;
  private final Thread watchdog;
  private volatile boolean closed;

  TcpTransport(TransportContext context) {
    this.context = context;
    this.host = context.option("tcp.host", "127.0.0.1");
    this.stallNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(
        Long.parseLong(context.option("tcp.stallMillis", "5000")));
    this.sendBuffer = Integer.parseInt(context.option("tcp.sendBuffer", "0"));
    this.receiveBuffer = Integer.parseInt(context.option("tcp.receiveBuffer", "0"));
    if (sendBuffer < 0 || receiveBuffer < 0) {
      throw new IllegalArgumentException("tcp.sendBuffer and tcp.receiveBuffer must be >= 0 (0: system default), got "
          + sendBuffer + " and " + receiveBuffer);
    }
    this.responseBytes = Long.parseLong(context.option("tcp.responseBytes", Long.toString(Responses.MAX_BYTES)));
    if (responseBytes < 1) {
      throw new IllegalArgumentException("tcp.responseBytes must be >= 1, got " + responseBytes);
    }
    this.watchdog = thread("watchdog", this::watch);
    String bind = context.option("tcp.bind", host);
    this.rails = new Rail[context.rails()];
    int io = Integer.parseInt(context.option("tcp.ioThreads",
        Integer.toString(Math.max(1, Math.min(rails.length, Runtime.getRuntime().availableProcessors() / 2)))));
    if (io < 1) {
      throw new IllegalArgumentException("tcp.ioThreads must be >= 1, got " + io);
    }
    this.loops = new IoLoop[Math.min(io, rails.length)];
    this.serveLoops = new ServeLoop[loops.length];
    boolean ok = false;
    try {
      for (int i = 0; i < loops.length; i++) {
        loops[i] = new IoLoop(i);
        loops[i].thread.start();
        serveLoops[i] = new ServeLoop(i);
        serveLoops[i].thread.start();
      }
      for (int i = 0; i < rails.length; i++) {
        rails[i] = new Rail(i, bind);
      }
      watchdog.start();
      ok = true;
    } catch (IOException e) {
      throw new UncheckedIOException("tcp transport of engine '" + context.engineName()
          + "' cannot listen on " + bind + ": " + e.getMessage(), e);
    } finally {
      if (!ok) {
        close();
      }
    }
  }

  @Override
  public String name() {
    return TcpTransportProvider.NAME;
  }

  @Override
  public int rails() {
    return rails.length;
  }

  @Override
  public int preferredSliceBytes() {
    return 1 << 20;
  }

  @Override
  public MemoryRegistration register(String segmentName, long key, long address, long length) {
    List<RailEndpoint> eps = new ArrayList<>(rails.length);
    for (Rail r : rails) {
      eps.add(new RailEndpoint((host + ":" + r.port).getBytes(StandardCharsets.US_ASCII), key, 0));
    }
    return MemoryRegistration.of(eps);
  }

  @Override
  public CompletableFuture<Void> submit(int rail, SliceOp slice) {
    Pending p = new Pending(ids.incrementAndGet(), slice);
    Rail r = rails[rail];
    RailEndpoint ep = slice.remote().rails().get(rail % slice.remote().rails().size());
    p.key = ep.key();
    if (r.closed || closed) {
      p.future.completeExceptionally(new RailFailedException(rail, "tcp rail closed", null));
      return p.future;
    }
    // The connection of the last endpoint this rail used (the same descriptor, slice after slice),
    // without building the address string and map key each time.
    LastConnection last = r.last;
    Connection c;
    if (last != null && last.endpoint == ep && last.connection.failure == null) {
      c = last.connection;
    } else {
      String address = new String(ep.address(), StandardCharsets.US_ASCII);
      String connKey = rail + "/" + address;
      c = connections.computeIfAbsent(connKey, k -> new Connection(rail, address, k));
      r.last = new LastConnection(ep, c);
    }
    if (!c.enqueue(p)) {
      p.future.completeExceptionally(new RailFailedException(rail, "tcp connection to " + c.address + " broke", c.failure));
    }
    return p.future;
  }

  /**
   * A connection with slices pending and no byte of progress for {@code tcp.stallMillis} (a peer that
   * hangs without closing its socket) is failed, so its slices go to other rails and the memory they
   * pin is released.
   */
  private void watch() {
    while (!closed) {
      java.util.concurrent.locks.LockSupport.parkNanos(Math.min(stallNanos / 4, 250_000_000L));
      long now = System.nanoTime();
      for (Connection c : List.copyOf(connections.values())) {
        if (c.busy() && now - c.lastProgressNanos > stallNanos) {
          c.fail(new IOException("no progress for " + (stallNanos / 1_000_000) + " ms (tcp.stallMillis)"));
        }
      }
    }
  }

  @Override
  public void closeRail(int rail) {
    rails[rail].close();
    for (Connection c : List.copyOf(connections.values())) {
      if (c.rail == rail) {
        c.fail(new IOException("rail closed"));
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    if (watchdog != null) {
      java.util.concurrent.locks.LockSupport.unpark(watchdog);
    }
    for (int i = 0; i < rails.length; i++) {
      if (rails[i] != null) {
        closeRail(i);
      }
    }
    for (Connection c : List.copyOf(connections.values())) {
      c.fail(new IOException("transport closed"));
    }
    for (IoLoop l : loops) {
      if (l != null) {
        l.stop();
      }
    }
    for (Rail r : rails) {
      if (r != null) {
        r.join();
      }
    }
    for (ServeLoop l : serveLoops) {
      if (l != null) {
        l.stop();
      }
    }
  }

  /**
   * A direct {@link ByteBuffer} over {@code length} bytes of registered memory at {@code address}
   * (no copy, no cleaner: the segment owns the memory). Arrow's {@code MemoryUtil.directBuffer} does
   * the same through {@code Constructor.newInstance}, which boxes both arguments and goes through a
   * reflective accessor: with one view per 64 KiB request on both sides that was the largest Java
   * item of a 64 KiB READ profile (README, "tcp READ of 64 KiB: CPU per request"). This calls the
   * same private JDK constructor through a constant {@link MethodHandle}, which the JIT inlines; it
   * needs {@code --add-opens java.base/java.nio} like Arrow itself, and falls back to Arrow's call
   * when the handle cannot be made.
   */
  static ByteBuffer view(long address, int length) {
    MethodHandle h = DIRECT_BUFFER;
    if (h != null) {
      try {
        return (ByteBuffer) h.invokeExact(address, length);
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable e) {
        throw new IllegalStateException("cannot make a direct buffer view", e);
      }
    }
    return MemoryUtil.directBuffer(address, length);
  }

  /** True when {@link #view} uses the method handle (tests check it under the project's JVM flags). */
  static boolean fastViews() {
    return DIRECT_BUFFER != null;
  }

  /** {@code (long address, int capacity) -> ByteBuffer}: DirectByteBuffer's private constructor, or null. */
  private static final MethodHandle DIRECT_BUFFER = directBufferConstructor();

  private static MethodHandle directBufferConstructor() {
    try {
      Class<?> c = Class.forName("java.nio.DirectByteBuffer");
      MethodHandles.Lookup l = MethodHandles.privateLookupIn(c, MethodHandles.lookup());
      MethodHandle h;
      try {
        h = l.findConstructor(c, MethodType.methodType(void.class, long.class, int.class)); // JDK 17
      } catch (NoSuchMethodException e) {
        h = l.findConstructor(c, MethodType.methodType(void.class, long.class, long.class)); // JDK 21+
      }
      h = h.asType(MethodType.methodType(ByteBuffer.class, long.class, int.class));
      ByteBuffer mem = ByteBuffer.allocateDirect(8);
      ByteBuffer probe = (ByteBuffer) h.invokeExact(MemoryUtil.getByteBufferAddress(mem), 8);
      return probe.isDirect() && probe.capacity() == 8
          && MemoryUtil.getByteBufferAddress(probe) == MemoryUtil.getByteBufferAddress(mem) ? h : null;
    } catch (Throwable e) {
      return null; // java.nio not opened to us, or another JDK: Arrow's reflective call
    }
  }

  /** Applies the configured buffer sizes and TCP_NODELAY (buffers before connect, so the window scale fits). */
  void tune(SocketChannel ch) throws IOException {
    if (sendBuffer > 0) {
      ch.setOption(StandardSocketOptions.SO_SNDBUF, sendBuffer);
    }
    if (receiveBuffer > 0) {
      ch.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
    }
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
  }

  private Thread thread(String suffix, Runnable r) {
    Thread t = new Thread(r, "rq-transfer-" + context.engineName() + "-tcp-" + suffix);
    t.setDaemon(true);
    return t;
  }

  /** The connection a rail used last, and for which endpoint. */
  private record LastConnection(RailEndpoint endpoint, Connection connection) {}

  /** A slice waiting for its response. */
  private static final class Pending {
    final long id;
    final SliceOp slice;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    long key;

    Pending(long id, SliceOp slice) {
      this.id = id;
      this.slice = slice;
    }
  }

  // ------------------------------------------------------------------ initiator

  /**
   * An initiator I/O thread: sends the requests and reads the responses of every connection assigned
   * to it (non-blocking channels, one {@link Selector}), so a slice passes no thread hand-off between
   * sending and receiving, and with more rails than I/O threads the rails' streams share threads
   * instead of each adding a sender and a receiver. A submitting thread only queues its slice and
   * wakes the loop (not even that when it runs on the loop, as the engine's completion callbacks do).
   */
  private final class IoLoop {
    final Selector selector;
    final Thread thread;
    /** Connections to connect and register, or with new requests, or failed by another thread. */
    final ConcurrentLinkedQueue<Connection> dirty = new ConcurrentLinkedQueue<>();
    volatile boolean stopped;

    IoLoop(int index) throws IOException {
      this.selector = Selector.open();
      this.thread = thread("io-" + index, this::run);
    }

    void schedule(Connection c) {
      if (!c.scheduled.getAndSet(true)) {
        dirty.add(c);
        if (Thread.currentThread() != thread) {
          selector.wakeup();
        }
      }
    }

    void run() {
      try {
        while (!stopped) {
          if (dirty.isEmpty()) {
            selector.select(this::ready);
          } else {
            selector.selectNow(this::ready);
          }
          for (Connection c; (c = dirty.poll()) != null; ) {
            c.scheduled.set(false);
            c.step(false);
          }
        }
      } catch (IOException | RuntimeException e) {
        // the selector itself broke: fail whatever is left, below
      } finally {
        for (Connection c : List.copyOf(connections.values())) {
          if (c.loop == this) {
            c.fail(new IOException("tcp I/O thread stopped"));
            c.sweep();
          }
        }
        for (Connection c; (c = dirty.poll()) != null; ) {
          c.sweep();
        }
        try {
          selector.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }

    private void ready(SelectionKey k) {
      ((Connection) k.attachment()).step(k.isWritable());
    }

    void stop() {
      stopped = true;
      selector.wakeup();
      if (Thread.currentThread() != thread) {
        try {
          thread.join(5000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * One initiator connection, driven only by its {@link IoLoop} ({@link #step}); other threads only
   * queue requests ({@link #enqueue}) and fail it ({@link #fail}).
   */
  private final class Connection {
    final int rail;
    final String address;
    final String mapKey;
    final IoLoop loop;
    final ConcurrentLinkedQueue<Pending> sendQueue = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Pending> awaiting = new ConcurrentLinkedQueue<>();
    final java.util.concurrent.atomic.AtomicBoolean scheduled = new java.util.concurrent.atomic.AtomicBoolean();
    volatile SocketChannel channel;
    volatile Throwable failure;
    volatile long lastProgressNanos = System.nanoTime();
    // ---- loop thread only
    SelectionKey key;
    boolean connected;
    /** The last write left requests unwritten: the socket was full. */
    boolean full;
    /** Requests (headers and WRITE payloads) being written: {@code out[outFirst..outCount)}. */
    final ByteBuffer header = ByteBuffer.allocateDirect(MAX_BATCH * (REQ_HEADER + 4096));
    final ByteBuffer[] out = new ByteBuffer[2 * MAX_BATCH];
    int outFirst;
    int outCount;
    /** The segment name of the last request written, and its UTF-8 bytes. */
    String lastName;
    byte[] lastNameBytes;
    /** Response bytes (read mode), and the READ whose payload is being read into {@code dst}. */
    final ByteBuffer in = ByteBuffer.allocateDirect(64 << 10).flip();
    final ByteBuffer[] pair = new ByteBuffer[2];
    volatile Pending current;
    ByteBuffer dst;
    /** Header of the response being read, once parsed: status, message length (-1: none parsed). */
    byte status;
    long respId;
    int msgLen = -1;

    Connection(int rail, String address, String mapKey) {
      this.rail = rail;
      this.address = address;
      this.mapKey = mapKey;
      this.loop = loops[rail % loops.length];
      loop.schedule(this);
    }

    boolean enqueue(Pending p) {
      synchronized (this) {
        if (failure != null) {
          return false;
        }
        sendQueue.add(p);
      }
      loop.schedule(this);
      return true;
    }

    boolean busy() {
      return !awaiting.isEmpty() || !sendQueue.isEmpty() || current != null;
    }

    /**
     * Everything that can be done now without blocking: connect, send, receive. Loop thread only.
     * Once the socket was full, requests are written again only when the selector reports it
     * writable: an acknowledgement arriving in between frees a little room, and writing into it
     * at once would cost a write call per acknowledgement for a few KiB each.
     */
    void step(boolean writable) {
      if (failure != null) {
        sweep();
        return;
      }
      try {
        if (key == null) {
          int colon = address.lastIndexOf(':');
          SocketChannel ch = SocketChannel.open();
          channel = ch;
          if (failure != null) {
            ch.close();
            sweep();
            return;
          }
          ch.configureBlocking(false);
          tune(ch);
          connected = ch.connect(new InetSocketAddress(address.substring(0, colon),
              Integer.parseInt(address.substring(colon + 1))));
          key = ch.register(loop.selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this);
        }
        if (!connected) {
          if (!channel.finishConnect()) {
            return;
          }
          connected = true;
        }
        boolean more = full && !writable ? true : send();
        receive();
        if (!more) {
          more = send(); // completions may have queued more requests
        }
        full = more;
        if (failure != null) {
          sweep();
          return;
        }
        int ops = SelectionKey.OP_READ | (more ? SelectionKey.OP_WRITE : 0);
        if (key.interestOps() != ops) {
          key.interestOps(ops);
        }
      } catch (IOException | RuntimeException e) {
        fail(e);
        sweep();
      }
    }

    /** The UTF-8 bytes of a segment name; the last name's are kept (slice after slice names the same segment). */
    private byte[] nameBytes(String name) {
      if (name != lastName) {
        lastNameBytes = name.getBytes(StandardCharsets.UTF_8);
        lastName = name;
      }
      return lastNameBytes;
    }

    /** Writes queued requests until done or the socket is full; true when bytes are left to write. */
    private boolean send() throws IOException {
      while (true) {
        if (outFirst == outCount) {
          outFirst = 0;
          outCount = 0;
          header.clear();
          // Consecutive headers (READs) share one entry of the gathering write; a WRITE's payload
          // closes the entry before it.
          int start = 0;
          for (Pending p; outCount < out.length - 2 && header.remaining() >= REQ_HEADER + 4096
              && (p = sendQueue.poll()) != null; ) {
            SliceOp s = p.slice;
            byte[] name = nameBytes(s.remote().name());
            header.putInt(MAGIC_REQ).put(s.op() == TransferOp.READ ? OP_READ : OP_WRITE).put((byte) 0)
                .putShort((short) name.length).putLong(p.id).putLong(p.key).putLong(s.remoteOffset())
                .putInt(s.length()).put(name);
            if (s.op() == TransferOp.WRITE) {
              out[outCount++] = header.duplicate().limit(header.position()).position(start);
              start = header.position();
              out[outCount++] = view(s.localAddress(), s.length());
            }
            awaiting.add(p);
          }
          if (header.position() > start) {
            out[outCount++] = header.duplicate().limit(header.position()).position(start);
          }
          if (outCount == 0) {
            return false;
          }
        }
        long n = channel.write(out, outFirst, outCount - outFirst);
        if (n > 0) {
          lastProgressNanos = System.nanoTime();
        }
        while (outFirst < outCount && !out[outFirst].hasRemaining()) {
          out[outFirst++] = null;
        }
        if (outFirst < outCount) {
          return true;
        }
      }
    }

    /** Reads and completes responses until the socket has no more bytes. */
    private void receive() throws IOException {
      while (true) {
        Pending p = current;
        if (p == null) {
          if (msgLen < 0) {
            if (!fill(RESP_HEADER)) {
              return;
            }
            int magic = in.getInt();
            status = in.get();
            in.position(in.position() + 3);
            long id = in.getLong();
            msgLen = in.getInt();
            respId = id;
            if (magic != MAGIC_RESP || msgLen < 0 || msgLen > 4096) {
              throw new IOException("protocol error from " + address + ": magic 0x" + Integer.toHexString(magic)
                  + ", message length " + msgLen);
            }
            Pending head = awaiting.peek();
            if (head == null || head.id != id) {
              throw new IOException("protocol error from " + address + ": response for request " + id
                  + ", expected " + (head == null ? "none" : head.id));
            }
          }
          if (msgLen > 0 && !fill(msgLen)) {
            return;
          }
          String msg = "";
          if (msgLen > 0) {
            byte[] m = new byte[msgLen];
            in.get(m);
            msg = new String(m, StandardCharsets.UTF_8);
          }
          msgLen = -1;
          p = awaiting.poll();
          if (p == null || p.id != respId) {
            // failed meanwhile by another thread, which took the answered slice from awaiting
            if (p != null) {
              p.future.completeExceptionally(new RailFailedException(rail, "tcp connection to " + address
                  + " failed: " + failure, failure));
            }
            throw new IOException("connection to " + address + " failed while reading a response");
          }
          if (status != OK) {
            p.future.completeExceptionally(new TransferRefusedException("tcp peer " + address + " refused: " + msg));
            continue;
          }
          if (p.slice.op() != TransferOp.READ) {
            p.future.complete(null);
            continue;
          }
          // The payload: what is buffered, then straight from the socket into memory.
          int length = p.slice.length();
          int buffered = Math.min(in.remaining(), length);
          if (buffered > 0) {
            MemoryUtil.copyMemory(MemoryUtil.getByteBufferAddress(in) + in.position(), p.slice.localAddress(), buffered);
            in.position(in.position() + buffered);
          }
          if (buffered == length) {
            p.future.complete(null);
            continue;
          }
          current = p;
          dst = view(p.slice.localAddress() + buffered, length - buffered);
          // in is empty: read exactly the next header behind the payload when the next response
          // answers a READ too (responses come in request order), so its payload goes to memory.
          Pending next = awaiting.peek();
          in.clear().limit(next != null && next.slice.op() == TransferOp.READ ? RESP_HEADER : READ_AHEAD);
        }
        pair[0] = dst;
        pair[1] = in;
        long n;
        try {
          n = channel.read(pair);
        } finally {
          pair[0] = null;
          pair[1] = null;
        }
        if (n < 0) {
          throw new EOFException("connection closed by peer");
        }
        if (n > 0) {
          lastProgressNanos = System.nanoTime();
        }
        if (dst.hasRemaining()) {
          if (in.position() > 0) {
            throw new IllegalStateException("bytes behind an unfinished payload");
          }
          return;
        }
        in.flip();
        dst = null;
        current = null;
        p.future.complete(null);
      }
    }

    /**
     * Makes at least {@code n} unread bytes available in {@code in} (read mode) without blocking,
     * reading at most {@link #READ_AHEAD} bytes beyond them; false when they are not there yet.
     */
    private boolean fill(int n) throws IOException {
      if (in.remaining() >= n) {
        return true;
      }
      in.compact();
      in.limit(Math.min(in.capacity(), Math.max(n, in.position() + READ_AHEAD)));
      int r = channel.read(in);
      in.flip();
      if (r < 0) {
        throw new EOFException("connection closed by peer");
      }
      if (r > 0) {
        lastProgressNanos = System.nanoTime();
      }
      return in.remaining() >= n;
    }

    /**
     * After a failure, on the loop thread: fails the READ whose payload was being read (no other
     * thread sees it), whatever another thread's {@link #fail} raced with, and drops the selector key.
     */
    void sweep() {
      Throwable e = failure;
      if (e == null) {
        return;
      }
      RailFailedException rf = new RailFailedException(rail, "tcp connection to " + address + " failed: " + e, e);
      Pending p = current;
      if (p != null) {
        current = null;
        dst = null;
        p.future.completeExceptionally(rf);
      }
      for (Pending q; (q = awaiting.poll()) != null; ) {
        q.future.completeExceptionally(rf);
      }
      for (Pending q; (q = sendQueue.poll()) != null; ) {
        q.future.completeExceptionally(rf);
      }
      for (int i = 0; i < out.length; i++) {
        out[i] = null;
      }
      outFirst = 0;
      outCount = 0;
      if (key != null) {
        key.cancel();
      }
    }

    void fail(Throwable e) {
      synchronized (this) {
        if (failure != null) {
          return;
        }
        failure = e;
      }
      connections.remove(mapKey, this);
      SocketChannel ch = channel;
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
      RailFailedException rf = new RailFailedException(rail, "tcp connection to " + address + " failed: " + e, e);
      for (Pending p; (p = awaiting.poll()) != null; ) {
        p.future.completeExceptionally(rf);
      }
      for (Pending p; (p = sendQueue.poll()) != null; ) {
        p.future.completeExceptionally(rf);
      }
      // the loop fails the slice it is reading a payload for, and anything that raced with this
      loop.schedule(this);
    }
  }

  // ------------------------------------------------------------------ target

  /**
   * Responses of one served connection, coalesced: a response (a WRITE's acknowledgement, a
   * refusal, or a READ's header with its payload) waits while the initiator has already sent more
   * requests, and all waiting responses go out in one gathering write as soon as no further request
   * is readable without blocking, or {@link #MAX_PENDING} responses or {@code maxBytes} payload
   * bytes (acknowledged or to send) are waiting. A waiting READ keeps its segment pinned (its {@link
   * TargetSegments.TargetAccess}) until its payload is written; its payload is sent straight from the
   * segment (a direct view, no copy). Responses stay in request order. The channel is non-blocking:
   * {@link #flush} writes what the socket takes and reports whether all went; the serving loop then
   * reads no further request until the rest is written ({@link #full()} before each response).
   */
  static final class Responses {
    static final int MAX_PENDING = 64;
    static final long MAX_BYTES = 1L << 20;
    final SocketChannel ch;
    final long maxBytes;
    final ByteBuffer buf = ByteBuffer.allocateDirect(MAX_PENDING * RESP_HEADER + 2 * 4096);
    final ByteBuffer[] gather = new ByteBuffer[2 * MAX_PENDING + 1];
    final TargetSegments.TargetAccess[] held = new TargetSegments.TargetAccess[MAX_PENDING];
    /** Reusable views of {@link #buf} for {@link #headers()}; the first {@code viewsUsed} are in {@link #gather}. */
    final ByteBuffer[] views = new ByteBuffer[MAX_PENDING + 1];
    int viewsUsed;
    /** Entries of {@link #gather} in use; headers from {@link #headerStart} on are not in it yet. */
    int gathered;
    /** First entry of {@link #gather} not completely written (a flush in progress). */
    int written;
    boolean flushing;
    int headerStart;
    int heldCount;
    int pending;
    long bytes;

    Responses(SocketChannel ch, long maxBytes) {
      this.ch = ch;
      this.maxBytes = maxBytes;
    }

    /** True when no further response fits before a flush, or a flush is still being written. */
    boolean full() {
      return flushing || pending >= MAX_PENDING || buf.remaining() < RESP_HEADER + 4096;
    }

    /** True when the limits say the waiting responses should go now, more input or not. */
    boolean due() {
      return pending >= MAX_PENDING || bytes >= maxBytes;
    }

    private void header(byte status, long id, String msg) {
      byte[] m = msg == null ? null : msg.getBytes(StandardCharsets.UTF_8);
      int len = m == null ? 0 : Math.min(m.length, 4096);
      buf.putInt(MAGIC_RESP).put(status).put((byte) 0).putShort((short) 0).putLong(id).putInt(len);
      if (len > 0) {
        buf.put(m, 0, len);
      }
      pending++;
    }

    /** A response without payload: a WRITE's acknowledgement ({@code ackedBytes}) or a refusal. */
    void add(byte status, long id, String msg, long ackedBytes) {
      header(status, id, msg);
      bytes += ackedBytes;
    }

    /**
     * The headers written since the last call, as one entry of the gathering write: a view of {@code
     * buf} from a pool made once per connection (at most one per READ and one for the tail), not a
     * new duplicate per response.
     */
    private ByteBuffer headers() {
      ByteBuffer v = views[viewsUsed];
      if (v == null) {
        v = buf.duplicate();
        views[viewsUsed] = v;
      }
      viewsUsed++;
      v.clear().limit(buf.position()).position(headerStart);
      headerStart = buf.position();
      return v;
    }

    /** An OK READ: its header, then {@code length} bytes from {@code access}, which this now owns. */
    void addRead(long id, TargetSegments.TargetAccess access, int length) {
      header(OK, id, null);
      gather[gathered++] = headers();
      gather[gathered++] = view(access.address(), length);
      held[heldCount++] = access;
      bytes += length;
    }

    /**
     * Writes the waiting responses, as far as the socket takes them; true when all are written (and
     * the READs' segments unpinned), false when the rest must wait until the socket is writable.
     */
    boolean flush() throws IOException {
      if (pending == 0) {
        return true;
      }
      if (!flushing) {
        if (buf.position() > headerStart) {
          gather[gathered++] = headers();
        }
        flushing = true;
        written = 0;
      }
      ch.write(gather, written, gathered - written);
      while (written < gathered && !gather[written].hasRemaining()) {
        written++;
      }
      if (written < gathered) {
        return false;
      }
      release();
      return true;
    }

    /** Forgets what is waiting (written or not) and unpins the READs' segments. */
    void release() {
      for (int i = 0; i < gathered; i++) {
        gather[i] = null;
      }
      for (int i = 0; i < heldCount; i++) {
        held[i].close();
        held[i] = null;
      }
      gathered = 0;
      written = 0;
      flushing = false;
      viewsUsed = 0;
      heldCount = 0;
      headerStart = 0;
      pending = 0;
      bytes = 0;
      buf.clear();
    }
  }

  /**
   * A target I/O thread: serves every accepted connection assigned to it (non-blocking, one {@link
   * Selector}), so with more rails than threads the rails' streams share threads instead of each
   * adding a serving thread.
   */
  private final class ServeLoop {
    final Selector selector;
    final Thread thread;
    final ConcurrentLinkedQueue<Served> dirty = new ConcurrentLinkedQueue<>();
    final Set<Served> served = ConcurrentHashMap.newKeySet();
    volatile boolean stopped;

    ServeLoop(int index) throws IOException {
      this.selector = Selector.open();
      this.thread = thread("serve-" + index, this::run);
    }

    void schedule(Served s) {
      dirty.add(s);
      selector.wakeup();
    }

    void run() {
      try {
        while (!stopped) {
          selector.select(k -> ((Served) k.attachment()).step());
          for (Served s; (s = dirty.poll()) != null; ) {
            s.step();
          }
        }
      } catch (IOException | RuntimeException e) {
        // the selector broke: drop every connection, below
      } finally {
        for (Served s : List.copyOf(served)) {
          s.drop();
        }
        try {
          selector.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }

    void stop() {
      stopped = true;
      selector.wakeup();
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One accepted connection, driven only by its {@link ServeLoop}. */
  private final class Served {
    final Rail rail;
    final ServeLoop loop;
    final SocketChannel ch;
    final ByteBuffer in = ByteBuffer.allocateDirect(64 << 10).flip();
    final ByteBuffer[] pair = new ByteBuffer[2];
    final Responses out;
    final TargetSegments segments = context.segments();
    SelectionKey key;
    ByteBuffer scratch;
    volatile boolean closeRequested;
    boolean dropped;
    // the request being served: header parsed (op != 0), then its WRITE payload or refused bytes
    byte op;
    int nameLen;
    long id;
    long segKey;
    long offset;
    int length;
    TargetSegments.TargetAccess access;
    ByteBuffer dst;
    long discard = -1;
    String refusal;
    /** The segment name of the last request, as bytes and as a String. */
    byte[] lastNameBytes;
    String lastName;

    Served(Rail rail, ServeLoop loop, SocketChannel ch) {
      this.rail = rail;
      this.loop = loop;
      this.ch = ch;
      this.out = new Responses(ch, responseBytes);
    }

    void step() {
      if (dropped) {
        return;
      }
      if (closeRequested || loop.stopped) {
        drop();
        return;
      }
      try {
        if (key == null) {
          key = ch.register(loop.selector, SelectionKey.OP_READ, this);
        }
        boolean waitWrite = serve();
        int ops = waitWrite ? SelectionKey.OP_WRITE : SelectionKey.OP_READ;
        if (key.interestOps() != ops) {
          key.interestOps(ops);
        }
      } catch (IOException | RuntimeException e) {
        // Peer went away, rail closed, or protocol error: drop the connection.
        drop();
      }
    }

    /** Serves requests until input runs dry (false) or responses wait for the socket (true). */
    private boolean serve() throws IOException {
      while (true) {
        if (out.flushing && !out.flush()) {
          return true;
        }
        if (op == 0) {
          if (out.full() && !out.flush()) {
            return true;
          }
          if (!fill(REQ_HEADER)) {
            return !out.flush();
          }
          int magic = in.getInt();
          op = in.get();
          in.get();
          nameLen = in.getShort() & 0xFFFF;
          id = in.getLong();
          segKey = in.getLong();
          offset = in.getLong();
          length = in.getInt();
          if (magic != MAGIC_REQ || (op != OP_READ && op != OP_WRITE) || nameLen > 4096 || length < 0) {
            throw new IOException("protocol error: magic 0x" + Integer.toHexString(magic) + ", op " + op
                + ", name length " + nameLen + ", length " + length);
          }
        }
        if (access == null && discard < 0) {
          if (!fill(nameLen)) {
            return !out.flush();
          }
          String name = name();
          TransferOp top = op == OP_READ ? TransferOp.READ : TransferOp.WRITE;
          TargetSegments.TargetAccess a;
          try {
            a = segments.acquire(name, segKey, offset, length, top);
          } catch (TransferException refused) {
            if (top == TransferOp.READ) {
              out.add(REFUSED, id, refused.getMessage(), 0);
              op = 0;
              if (out.due() && !out.flush()) {
                return true;
              }
              continue;
            }
            refusal = refused.getMessage();
            discard = length;
            a = null;
          }
          if (a != null) {
            if (top == TransferOp.READ) {
              out.addRead(id, a, length);
              op = 0;
              if (out.due() && !out.flush()) {
                return true;
              }
              continue;
            }
            access = a;
            int buffered = Math.min(in.remaining(), length);
            if (buffered > 0) {
              MemoryUtil.copyMemory(MemoryUtil.getByteBufferAddress(in) + in.position(), a.address(), buffered);
              in.position(in.position() + buffered);
            }
            dst = view(a.address() + buffered, length - buffered);
            if (dst.hasRemaining()) {
              // in is empty; read ahead the next request's header if it names the same segment
              in.clear().limit(REQ_HEADER + nameLen);
            }
          }
        }
        if (discard >= 0) {
          // a refused WRITE: its payload is read into scratch and dropped, so the stream stays in step
          int buffered = (int) Math.min(in.remaining(), discard);
          in.position(in.position() + buffered);
          discard -= buffered;
          while (discard > 0) {
            if (scratch == null) {
              scratch = ByteBuffer.allocateDirect(64 << 10);
            }
            scratch.clear().limit((int) Math.min(scratch.capacity(), discard));
            int r = ch.read(scratch);
            if (r < 0) {
              throw new EOFException("connection closed by peer");
            }
            if (r == 0) {
              return !out.flush();
            }
            discard -= r;
          }
          discard = -1;
          out.add(REFUSED, id, refusal, 0);
          refusal = null;
          op = 0;
          if (out.due() && !out.flush()) {
            return true;
          }
          continue;
        }
        // a WRITE's payload, straight into the segment
        if (dst.hasRemaining()) {
          pair[0] = dst;
          pair[1] = in;
          long r;
          try {
            r = ch.read(pair);
          } finally {
            pair[0] = null;
            pair[1] = null;
          }
          if (r < 0) {
            throw new EOFException("connection closed by peer");
          }
          if (dst.hasRemaining()) {
            if (r == 0) {
              return !out.flush();
            }
            continue;
          }
          in.flip();
        }
        dst = null;
        access.close();
        access = null;
        out.add(OK, id, null, length);
        op = 0;
        if (out.due() && !out.flush()) {
          return true;
        }
      }
    }

    /**
     * Takes the request's segment name ({@code nameLen} bytes, available) from {@code in}. Request
     * after request names the same segment, so when the bytes equal the last name's, the last String
     * is returned: no byte array, no decoding, and the engine's segment map hashes a String it has
     * hashed before.
     */
    private String name() {
      byte[] last = lastNameBytes;
      int pos = in.position();
      if (last != null && last.length == nameLen) {
        int i = 0;
        while (i < nameLen && in.get(pos + i) == last[i]) {
          i++;
        }
        if (i == nameLen) {
          in.position(pos + nameLen);
          return lastName;
        }
      }
      byte[] b = new byte[nameLen];
      in.get(b);
      lastName = new String(b, StandardCharsets.UTF_8);
      lastNameBytes = b;
      return lastName;
    }

    /**
     * Makes at least {@code n} unread bytes available in {@code in} (read mode) without blocking,
     * reading at most {@link #READ_AHEAD} bytes beyond them; false when they are not there yet.
     */
    private boolean fill(int n) throws IOException {
      if (in.remaining() >= n) {
        return true;
      }
      in.compact();
      in.limit(Math.min(in.capacity(), Math.max(n, READ_AHEAD)));
      int r = ch.read(in);
      in.flip();
      if (r < 0) {
        throw new EOFException("connection closed by peer");
      }
      return in.remaining() >= n;
    }

    /** Closes the connection and unpins what it held. Loop thread only. */
    void drop() {
      if (dropped) {
        return;
      }
      dropped = true;
      out.release();
      if (access != null) {
        access.close();
        access = null;
      }
      dst = null;
      if (key != null) {
        key.cancel();
      }
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      rail.accepted.remove(this);
      loop.served.remove(this);
    }
  }

  private final class Rail {
    final int index;
    final ServerSocketChannel server;
    final int port;
    final Thread acceptor;
    final Set<Served> accepted = ConcurrentHashMap.newKeySet();
    volatile boolean closed;
    volatile LastConnection last;

    Rail(int index, String bind) throws IOException {
      this.index = index;
      this.server = ServerSocketChannel.open();
      if (receiveBuffer > 0) {
        // inherited by accepted sockets; must be set before listen for a window scale above 64 KiB
        server.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
      }
      server.bind(new InetSocketAddress(bind, 0), 64);
      this.port = ((InetSocketAddress) server.getLocalAddress()).getPort();
      this.acceptor = thread("accept-r" + index, this::acceptLoop);
      acceptor.start();
    }

    void acceptLoop() {
      int n = 0;
      while (!closed) {
        try {
          SocketChannel ch = server.accept();
          tune(ch);
          ch.configureBlocking(false);
          ServeLoop loop = serveLoops[Math.floorMod(index + n++, serveLoops.length)];
          Served s = new Served(this, loop, ch);
          accepted.add(s);
          loop.served.add(s);
          if (closed) {
            s.closeRequested = true;
          }
          loop.schedule(s);
          if (closed) {
            return;
          }
        } catch (IOException e) {
          return;
        }
      }
    }

    synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        server.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      for (Served s : List.copyOf(accepted)) {
        s.closeRequested = true;
        try {
          s.ch.close(); // a peer blocked on this connection sees it at once
        } catch (IOException ignored) {
          // closing anyway
        }
        s.loop.schedule(s); // the loop unpins what the connection held
      }
    }

    void join() {
      try {
        acceptor.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
