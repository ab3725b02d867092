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
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * One-sided READ/WRITE over TCP with Java NIO.
 *
 * <h2>Topology and threads</h2>
 *
 * Each rail listens on its own socket ({@code rq-transfer-<engine>-tcp-accept-r<i>}); its endpoint
 * address is {@code host:port}. The initiator opens one connection per (rail, peer endpoint) on first
 * use, with a sender thread (requests and WRITE payload) and a receiver thread (responses and READ
 * payload), so slices are pipelined. Every accepted connection gets a serving thread on the target.
 * A connection that breaks fails all its slices with {@link RailFailedException} and is forgotten; the
 * next slice for that peer on that rail connects again.
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
 * Before touching memory the serving thread asks the engine's {@link TargetSegments} to check the
 * name, key, range and open state and to pin the segment. A refused WRITE's payload is read into a
 * small scratch buffer and dropped, so the stream stays in step and no byte lands outside a segment.
 *
 * <h2>Speed</h2>
 *
 * Slices are 1 MiB when the engine may choose ({@link #preferredSliceBytes()}), so headers, responses
 * and completions cost little against the payload. A connection's sender thread takes every queued
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
 * A rail remembers the connection of the last endpoint it used, so a slice does not build the
 * address string and map key. Sockets on both ends use the system's default buffer sizes with
 * {@code TCP_NODELAY}, like the plain socket copy of the benchmark.
 *
 * <h2>No heap copies</h2>
 *
 * Payload moves between the socket and the segment through direct {@link ByteBuffer} views over the
 * registered memory ({@code MemoryUtil.directBuffer}); headers use per-connection direct buffers.
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
    boolean ok = false;
    try {
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
        if ((!c.awaiting.isEmpty() || !c.sendQueue.isEmpty()) && now - c.lastProgressNanos > stallNanos) {
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
    for (Rail r : rails) {
      if (r != null) {
        r.join();
      }
    }
  }

  static ByteBuffer view(long address, int length) {
    return MemoryUtil.directBuffer(address, length);
  }

  static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new EOFException("connection closed by peer");
      }
    }
  }

  static void writeFully(SocketChannel ch, ByteBuffer... bs) throws IOException {
    writeFully(ch, bs, bs.length);
  }

  static void writeFully(SocketChannel ch, ByteBuffer[] bs, int n) throws IOException {
    ByteBuffer last = bs[n - 1];
    while (last.hasRemaining()) {
      ch.write(bs, 0, n);
    }
  }

  /**
   * Makes at least {@code n} unread bytes available in {@code in} (a direct buffer in read mode),
   * reading at most {@link #READ_AHEAD} bytes beyond them so that little payload lands in it.
   */
  static void ensure(SocketChannel ch, ByteBuffer in, int n) throws IOException {
    if (in.remaining() >= n) {
      return;
    }
    in.compact();
    int want = Math.min(in.capacity(), Math.max(n, READ_AHEAD));
    in.limit(want);
    while (in.position() < n) {
      if (ch.read(in) < 0) {
        throw new EOFException("connection closed by peer");
      }
    }
    in.flip();
  }

  /**
   * Reads {@code length} bytes to {@code address}: first those already in {@code in} (one off-heap
   * copy of at most READ_AHEAD bytes), the rest straight from the socket, in scattering reads that
   * also fill {@code in} with up to {@code ahead} bytes that follow the payload (the next header,
   * when the caller knows how long it will be), so a stream of payloads costs one read call each,
   * not a header read and a payload read. {@code pair} is a two-element scratch array.
   */
  static void readTo(SocketChannel ch, ByteBuffer in, long address, int length, int ahead, ByteBuffer[] pair)
      throws IOException {
    int buffered = Math.min(in.remaining(), length);
    if (buffered > 0) {
      MemoryUtil.copyMemory(MemoryUtil.getByteBufferAddress(in) + in.position(), address, buffered);
      in.position(in.position() + buffered);
    }
    if (length > buffered) {
      ByteBuffer dst = view(address + buffered, length - buffered);
      // in is empty here: everything it held belonged to this payload
      in.clear().limit(Math.max(0, Math.min(ahead, in.capacity())));
      pair[0] = dst;
      pair[1] = in;
      try {
        while (dst.hasRemaining()) {
          if (ch.read(pair) < 0) {
            throw new EOFException("connection closed by peer");
          }
        }
      } finally {
        pair[0] = null;
        pair[1] = null;
        in.flip();
      }
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

  private final class Connection {
    final int rail;
    final String address;
    final String mapKey;
    final LinkedBlockingQueue<Pending> sendQueue = new LinkedBlockingQueue<>();
    final ConcurrentLinkedQueue<Pending> awaiting = new ConcurrentLinkedQueue<>();
    final Thread sender;
    volatile Thread receiver;
    volatile SocketChannel channel;
    volatile Throwable failure;
    volatile long lastProgressNanos = System.nanoTime();

    Connection(int rail, String address, String mapKey) {
      this.rail = rail;
      this.address = address;
      this.mapKey = mapKey;
      this.sender = thread("send-r" + rail + "-" + address, this::sendLoop);
      sender.start();
    }

    boolean enqueue(Pending p) {
      synchronized (this) {
        if (failure != null) {
          return false;
        }
        sendQueue.add(p);
        return true;
      }
    }

    void sendLoop() {
      ByteBuffer header = ByteBuffer.allocateDirect(MAX_BATCH * (REQ_HEADER + 4096));
      List<Pending> batch = new ArrayList<>(MAX_BATCH);
      try {
        int colon = address.lastIndexOf(':');
        SocketChannel ch = SocketChannel.open();
        channel = ch;
        if (failure != null) {
          ch.close();
          return;
        }
        tune(ch);
        ch.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))));
        Thread rt = thread("recv-r" + rail + "-" + address, () -> receiveLoop(ch));
        receiver = rt;
        rt.start();
        ByteBuffer[] bufs = new ByteBuffer[2 * MAX_BATCH];
        while (failure == null) {
          batch.clear();
          batch.add(sendQueue.take());
          sendQueue.drainTo(batch, MAX_BATCH - 1);
          // One gathering write for every request queued: headers and WRITE payloads.
          header.clear();
          int n = 0;
          boolean stop = false;
          for (Pending p : batch) {
            if (p.slice == null) {
              stop = true;
              continue;
            }
            SliceOp s = p.slice;
            byte[] name = s.remote().name().getBytes(StandardCharsets.UTF_8);
            int start = header.position();
            header.putInt(MAGIC_REQ).put(s.op() == TransferOp.READ ? OP_READ : OP_WRITE).put((byte) 0)
                .putShort((short) name.length).putLong(p.id).putLong(p.key).putLong(s.remoteOffset())
                .putInt(s.length()).put(name);
            bufs[n++] = header.duplicate().limit(header.position()).position(start);
            if (s.op() == TransferOp.WRITE) {
              bufs[n++] = view(s.localAddress(), s.length());
            }
            awaiting.add(p);
          }
          if (n > 0) {
            writeFully(ch, bufs, n);
            lastProgressNanos = System.nanoTime();
          }
          if (stop) {
            return;
          }
        }
      } catch (IOException | RuntimeException e) {
        fail(e);
        failTaken(batch, e);
      } catch (InterruptedException e) {
        fail(new IOException("interrupted"));
        failTaken(batch, e);
      }
    }

    /** Fails requests the sender took off the queue but that {@link #fail} could not see. */
    void failTaken(List<Pending> taken, Throwable e) {
      RailFailedException rf = new RailFailedException(rail, "tcp connection to " + address + " failed: " + e, e);
      for (Pending p : taken) {
        if (p.slice != null) {
          p.future.completeExceptionally(rf);
        }
      }
    }

    void receiveLoop(SocketChannel ch) {
      ByteBuffer in = ByteBuffer.allocateDirect(64 << 10);
      ByteBuffer[] pair = new ByteBuffer[2];
      in.flip();
      // The slice whose response is being read: no longer in awaiting, so fail() cannot see it.
      Pending current = null;
      try {
        while (failure == null) {
          current = null;
          ensure(ch, in, RESP_HEADER);
          int magic = in.getInt();
          byte status = in.get();
          in.position(in.position() + 3);
          long id = in.getLong();
          int msgLen = in.getInt();
          if (magic != MAGIC_RESP || msgLen < 0 || msgLen > 4096) {
            throw new IOException("protocol error from " + address + ": magic 0x" + Integer.toHexString(magic)
                + ", message length " + msgLen);
          }
          lastProgressNanos = System.nanoTime();
          Pending p = awaiting.poll();
          current = p;
          if (p == null || p.id != id) {
            throw new IOException("protocol error from " + address + ": response for request " + id
                + ", expected " + (p == null ? "none" : p.id));
          }
          String msg = "";
          if (msgLen > 0) {
            ensure(ch, in, msgLen);
            byte[] m = new byte[msgLen];
            in.get(m);
            msg = new String(m, StandardCharsets.UTF_8);
          }
          if (status == OK) {
            if (p.slice.op() == TransferOp.READ) {
              // Responses come in request order: when the next one answers a READ too, read exactly
              // its header behind this payload, so that its payload then goes straight to memory.
              Pending next = awaiting.peek();
              int ahead = next != null && next.slice.op() == TransferOp.READ ? RESP_HEADER : READ_AHEAD;
              readTo(ch, in, p.slice.localAddress(), p.slice.length(), ahead, pair);
            }
            p.future.complete(null);
          } else {
            p.future.completeExceptionally(new TransferRefusedException("tcp peer " + address + " refused: " + msg));
          }
        }
      } catch (IOException | RuntimeException e) {
        fail(e);
        if (current != null) {
          // e.g. the peer died in the middle of this READ's payload
          current.future.completeExceptionally(
              new RailFailedException(rail, "tcp connection to " + address + " failed: " + e, e));
        }
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
      sendQueue.add(new Pending(0, null));
      for (Pending p; (p = awaiting.poll()) != null; ) {
        p.future.completeExceptionally(rf);
      }
      for (Pending p; (p = sendQueue.poll()) != null; ) {
        if (p.slice != null) {
          p.future.completeExceptionally(rf);
        }
      }
      sendQueue.add(new Pending(0, null));
    }
  }

  // ------------------------------------------------------------------ target

  /**
   * Responses of one served connection, coalesced: a response (a WRITE's acknowledgement, a
   * refusal, or a READ's header with its payload) waits while the initiator has already sent more
   * requests, and all waiting responses go out in one gathering write as soon as no further request
   * is readable without blocking, or {@link #MAX_PENDING} responses or {@link #MAX_BYTES} payload
   * bytes (acknowledged or to send) are waiting. A waiting READ keeps its segment pinned (its {@link
   * TargetSegments.TargetAccess}) until its payload is written; its payload is sent straight from the
   * segment (a direct view, no copy). Responses stay in request order. This saves the initiator's
   * receiver a wake-up and both sides a system call per slice when slices stream back to back (64
   * KiB READs used to cost one write call and one small TCP segment each), and never holds a
   * response while the target would block waiting for input.
   */
  static final class Responses {
    static final int MAX_PENDING = 64;
    static final long MAX_BYTES = 1L << 20;
    final SocketChannel ch;
    final long maxBytes;
    final java.io.InputStream probe;
    final ByteBuffer buf = ByteBuffer.allocateDirect(MAX_PENDING * RESP_HEADER + 2 * 4096);
    final ByteBuffer[] gather = new ByteBuffer[2 * MAX_PENDING + 1];
    final TargetSegments.TargetAccess[] held = new TargetSegments.TargetAccess[MAX_PENDING];
    /** Entries of {@link #gather} in use; headers from {@link #headerStart} on are not in it yet. */
    int gathered;
    int headerStart;
    int heldCount;
    int pending;
    long bytes;

    Responses(SocketChannel ch) {
      this(ch, MAX_BYTES);
    }

    Responses(SocketChannel ch, long maxBytes) {
      this.ch = ch;
      this.maxBytes = maxBytes;
      java.io.InputStream p = null;
      try {
        p = ch.socket().getInputStream();
      } catch (IOException | RuntimeException e) {
        // no probe: flush after every response
      }
      this.probe = p;
    }

    private void header(byte status, long id, String msg) throws IOException {
      byte[] m = msg == null ? null : msg.getBytes(StandardCharsets.UTF_8);
      int len = m == null ? 0 : Math.min(m.length, 4096);
      if (buf.remaining() < RESP_HEADER + len || pending >= MAX_PENDING) {
        flush();
      }
      buf.putInt(MAGIC_RESP).put(status).put((byte) 0).putShort((short) 0).putLong(id).putInt(len);
      if (len > 0) {
        buf.put(m, 0, len);
      }
      pending++;
    }

    /** A response without payload: a WRITE's acknowledgement ({@code ackedBytes}) or a refusal. */
    void add(byte status, long id, String msg, long ackedBytes) throws IOException {
      header(status, id, msg);
      bytes += ackedBytes;
    }

    /** An OK READ: its header, then {@code length} bytes from {@code access}, which this now owns. */
    void addRead(long id, TargetSegments.TargetAccess access, int length) throws IOException {
      try {
        header(OK, id, null);
      } catch (IOException | RuntimeException e) {
        access.close();
        throw e;
      }
      gather[gathered++] = buf.duplicate().limit(buf.position()).position(headerStart);
      headerStart = buf.position();
      gather[gathered++] = view(access.address(), length);
      held[heldCount++] = access;
      bytes += length;
    }

    /** Flushes unless a further request is already buffered or readable and the limits allow waiting. */
    void flushUnlessMoreInput(ByteBuffer in) throws IOException {
      if (pending == 0) {
        return;
      }
      if (pending < MAX_PENDING && bytes < maxBytes
          && (in.remaining() >= REQ_HEADER || (in.remaining() == 0 && readable()))) {
        return;
      }
      flush();
    }

    private boolean readable() {
      try {
        return probe != null && probe.available() > 0;
      } catch (IOException e) {
        return false;
      }
    }

    /** Writes every waiting response in one gathering write and unpins the READs' segments. */
    void flush() throws IOException {
      if (pending == 0) {
        return;
      }
      if (buf.position() > headerStart) {
        gather[gathered++] = buf.duplicate().limit(buf.position()).position(headerStart);
      }
      try {
        writeFully(ch, gather, gathered);
      } finally {
        release();
      }
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
      heldCount = 0;
      headerStart = 0;
      pending = 0;
      bytes = 0;
      buf.clear();
    }
  }

  private final class Rail {
    final int index;
    final ServerSocketChannel server;
    final int port;
    final Thread acceptor;
    final Set<SocketChannel> accepted = ConcurrentHashMap.newKeySet();
    final Set<Thread> servers = ConcurrentHashMap.newKeySet();
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
          accepted.add(ch);
          if (closed) {
            ch.close();
            return;
          }
          Thread t = thread("serve-r" + index + "-" + (n++), () -> serve(ch));
          servers.add(t);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    void serve(SocketChannel ch) {
      ByteBuffer in = ByteBuffer.allocateDirect(64 << 10);
      ByteBuffer[] pair = new ByteBuffer[2];
      in.flip();
      Responses out = new Responses(ch, responseBytes);
      ByteBuffer scratch = null;
      TargetSegments segments = context.segments();
      try {
        while (!closed) {
          ensure(ch, in, REQ_HEADER);
          int magic = in.getInt();
          byte op = in.get();
          in.get();
          int nameLen = in.getShort() & 0xFFFF;
          long id = in.getLong();
          long key = in.getLong();
          long offset = in.getLong();
          int length = in.getInt();
          if (magic != MAGIC_REQ || (op != OP_READ && op != OP_WRITE) || nameLen > 4096 || length < 0) {
            throw new IOException("protocol error: magic 0x" + Integer.toHexString(magic) + ", op " + op
                + ", name length " + nameLen + ", length " + length);
          }
          ensure(ch, in, nameLen);
          byte[] nameBytes = new byte[nameLen];
          in.get(nameBytes);
          String name = new String(nameBytes, StandardCharsets.UTF_8);
          TransferOp top = op == OP_READ ? TransferOp.READ : TransferOp.WRITE;
          TargetSegments.TargetAccess access;
          try {
            access = segments.acquire(name, key, offset, length, top);
          } catch (TransferException refused) {
            if (top == TransferOp.WRITE) {
              int buffered = Math.min(in.remaining(), length);
              in.position(in.position() + buffered);
              if (scratch == null) {
                scratch = ByteBuffer.allocateDirect(64 << 10);
              }
              for (long left = length - buffered; left > 0; ) {
                scratch.clear().limit((int) Math.min(scratch.capacity(), left));
                readFully(ch, scratch);
                left -= scratch.limit();
              }
            }
            out.add(REFUSED, id, refused.getMessage(), 0);
            out.flushUnlessMoreInput(in);
            continue;
          }
          if (top == TransferOp.WRITE) {
            try {
              // Read ahead the next request's header if it names the same segment (the usual case).
              readTo(ch, in, access.address(), length, REQ_HEADER + nameLen, pair);
            } finally {
              access.close();
            }
            out.add(OK, id, null, length);
          } else {
            out.addRead(id, access, length);
          }
          out.flushUnlessMoreInput(in);
        }
      } catch (IOException | RuntimeException e) {
        // Peer went away, rail closed, or protocol error: drop the connection.
      } finally {
        out.release();
        accepted.remove(ch);
        try {
          ch.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        servers.remove(Thread.currentThread());
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
      for (SocketChannel ch : List.copyOf(accepted)) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }

    void join() {
      try {
        acceptor.join(5000);
        for (Thread t : List.copyOf(servers)) {
          t.join(5000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
