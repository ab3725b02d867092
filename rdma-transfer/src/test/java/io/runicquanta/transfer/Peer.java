package io.runicquanta.transfer;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;

/** The target of a contract test: in the test JVM, or a {@link TransferPeerMain} process. */
interface Peer extends AutoCloseable {
  SegmentDescriptor descriptor();

  long crc(long offset, long length);

  boolean guardsIntact();

  void closeRail(int rail);

  void closeSegment();

  /** Makes the peer vanish abruptly: kills the process, or closes the in-JVM engine. */
  void kill();

  /** The peer's process, or null when it runs in this JVM. */
  default ProcessHandle process() {
    return null;
  }

  @Override
  void close();

  static Peer inJvm(BufferAllocator allocator, String transport, int rails, Map<String, String> options, long size) {
    BufferAllocator child = allocator.newChildAllocator("peer", 0, Long.MAX_VALUE);
    PeerNode node = new PeerNode(child, transport, rails, options, size);
    return new Peer() {
      boolean closed;

      @Override
      public SegmentDescriptor descriptor() {
        return node.descriptor();
      }

      @Override
      public long crc(long offset, long length) {
        return node.crc(offset, length);
      }

      @Override
      public boolean guardsIntact() {
        return node.guardsIntact();
      }

      @Override
      public void closeRail(int rail) {
        node.engine.closeRail(rail);
      }

      @Override
      public void closeSegment() {
        node.closeSegment();
      }

      @Override
      public void kill() {
        node.engine.close();
      }

      @Override
      public void close() {
        if (!closed) {
          closed = true;
          node.close();
          child.close();
        }
      }
    };
  }

  /** The test JVM's class path: Surefire's property when the booter jar hides it. */
  static String testClassPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isEmpty() ? cp : System.getProperty("java.class.path");
  }

  static Peer process(String transport, int rails, Map<String, String> options, long size) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-opens") || a.startsWith("--add-exports")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-cp");
    cmd.add(testClassPath());
    cmd.add(TransferPeerMain.class.getName());
    cmd.add(transport);
    cmd.add(Integer.toString(rails));
    cmd.add(Long.toString(size));
    options.forEach((k, v) -> cmd.add(k + "=" + v));
    try {
      File log = Files.createTempFile("transfer-peer-", ".log").toFile();
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log);
      pb.environment().put("IPATH_NO_BACKTRACE", "1");
      Process p = pb.start();
      BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      Writer out = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
      String first = in.readLine();
      if (first == null || !first.startsWith("READY ")) {
        p.destroyForcibly();
        throw new IllegalStateException("peer process did not start (first line " + first + "); stderr:\n"
            + Files.readString(log.toPath()));
      }
      SegmentDescriptor d = SegmentDescriptor.fromBytes(Base64.getDecoder().decode(first.substring(6)));
      return new Peer() {
        private String call(String command) {
          try {
            out.write(command + "\n");
            out.flush();
            String reply = in.readLine();
            if (reply == null || !reply.startsWith("OK")) {
              throw new IllegalStateException("peer answered " + reply + " to " + command + "; stderr:\n"
                  + Files.readString(log.toPath()));
            }
            return reply.length() > 3 ? reply.substring(3) : "";
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }

        @Override
        public SegmentDescriptor descriptor() {
          return d;
        }

        @Override
        public long crc(long offset, long length) {
          return Long.parseLong(call("crc " + offset + " " + length));
        }

        @Override
        public boolean guardsIntact() {
          return Boolean.parseBoolean(call("guards"));
        }

        @Override
        public void closeRail(int rail) {
          call("close-rail " + rail);
        }

        @Override
        public void closeSegment() {
          call("close-segment");
        }

        @Override
        public ProcessHandle process() {
          return p.toHandle();
        }

        @Override
        public void kill() {
          p.destroyForcibly();
          try {
            p.waitFor(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }

        @Override
        public void close() {
          if (p.isAlive()) {
            try {
              out.write("exit\n");
              out.flush();
              if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
              }
            } catch (IOException | InterruptedException e) {
              p.destroyForcibly();
            }
          }
          log.delete();
        }
      };
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
