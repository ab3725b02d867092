package io.runicquanta.transfer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.apache.arrow.memory.RootAllocator;

/**
 * A peer process for the two-process tests: {@code TransferPeerMain <transport> <rails> <bytes>
 * [key=value ...]}. Prints {@code READY <base64 descriptor>}, then answers one command per line on
 * stdin: {@code crc <offset> <length>}, {@code guards}, {@code close-rail <i>}, {@code
 * close-segment}, {@code exit}. Each answer is one line starting with {@code OK} or {@code ERR}.
 */
public final class TransferPeerMain {
  private TransferPeerMain() {}

  public static void main(String[] args) throws Exception {
    String transport = args[0];
    int rails = Integer.parseInt(args[1]);
    long size = Long.parseLong(args[2]);
    Map<String, String> options = new HashMap<>();
    for (int i = 3; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      options.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try (RootAllocator root = new RootAllocator(Long.MAX_VALUE);
        PeerNode node = new PeerNode(root, transport, rails, options, size)) {
      out.println("READY " + Base64.getEncoder().encodeToString(node.descriptor().toBytes()));
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        String[] c = line.trim().split(" ");
        try {
          switch (c[0]) {
            case "crc" -> out.println("OK " + node.crc(Long.parseLong(c[1]), Long.parseLong(c[2])));
            case "guards" -> out.println("OK " + node.guardsIntact());
            case "close-rail" -> {
              node.engine.closeRail(Integer.parseInt(c[1]));
              out.println("OK");
            }
            case "close-segment" -> {
              node.closeSegment();
              out.println("OK");
            }
            case "exit" -> {
              out.println("OK");
              return;
            }
            default -> out.println("ERR unknown command " + c[0]);
          }
        } catch (RuntimeException e) {
          out.println("ERR " + e);
        }
      }
    }
  }
}
