package io.runicquanta.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.runicquanta.cli.RqCliTest.Run;
import io.runicquanta.master.LocalGrid;
import io.runicquanta.plugin.RqPluginConfiguration;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.ignite.spi.discovery.tcp.TcpDiscoverySpi;
import org.apache.ignite.spi.discovery.tcp.ipfinder.vm.TcpDiscoveryVmIpFinder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The grid commands' parsing, configuration and errors that need no running grid: help, flags and
 * config files of {@code rq node}, bad input refused before connecting, and a clear exit 6 when no
 * grid answers.
 */
class RqGridCliTest {
  @TempDir Path tmp;

  static Run rq(String... args) {
    return RqCliTest.rq(args);
  }

  private static NodeCommand.Resolved node(String... args) throws Exception {
    NodeCommand c = new NodeCommand();
    new CommandLine(c).parseArgs(args);
    return c.resolve();
  }

  @Test
  void everyCommandHasHelp() {
    for (String cmd : List.of("node", "stash", "reveal", "ls", "rm", "status", "demo")) {
      Run r = rq(cmd, "--help");
      assertEquals(0, r.code(), cmd);
      assertTrue(r.out().contains("Usage: rq " + cmd), r.out());
    }
    Run files = rq("demo", "files", "--help");
    assertEquals(0, files.code());
    assertTrue(files.out().contains("Usage: rq demo files"), files.out());
    Run top = rq("--help");
    assertTrue(top.out().contains("6 no grid or master answered"), top.out());
    for (String c : List.of("node", "stash", "reveal", "ls", "rm", "status", "demo", "encode", "decode")) {
      assertTrue(top.out().contains("  " + c), c + " missing from\n" + top.out());
    }
  }

  @Test
  void usageErrorsExitTwoBeforeAnyConnection() throws Exception {
    Run noKey = rq("stash", "file.bin");
    assertEquals(2, noKey.code());
    assertTrue(noKey.err().contains("Missing required option: '--key=<key>'"), noKey.err());

    Run missing = rq("stash", tmp.resolve("absent.bin").toString(), "--key", "k");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("absent.bin"), missing.err());

    Path f = Files.write(tmp.resolve("f.bin"), new byte[10]);
    Run badM = rq("stash", f.toString(), "--key", "k", "--loss-tolerance", "-1");
    assertEquals(2, badM.code());
    assertTrue(badM.err().contains("--loss-tolerance = -1"), badM.err());
    Run badT = rq("stash", f.toString(), "--key", "k", "--symbol-size", "70000");
    assertEquals(2, badT.code());
    assertTrue(badT.err().contains("--symbol-size = 70000"), badT.err());
    Run badBlock = rq("stash", f.toString(), "--key", "k", "--block-size", "12q");
    assertEquals(2, badBlock.code());
    assertTrue(badBlock.err().contains("12q"), badBlock.err());

    Run exists = rq("reveal", "k", f.toString());
    assertEquals(2, exists.code());
    assertTrue(exists.err().contains("already exists (use --force"), exists.err());
    Run noDir = rq("reveal", "k", tmp.resolve("no/such/dir/out").toString());
    assertEquals(2, noDir.code());
    assertTrue(noDir.err().contains("directory of OUT not found"), noDir.err());

    Run rmTwo = rq("rm");
    assertEquals(2, rmTwo.code());
    Run badAddr = rq("ls", "--discovery-addresses", "host:12..3", "--connect-timeout", "1");
    assertEquals(2, badAddr.code());
    assertTrue(badAddr.err().contains("discovery address 'host:12..3'"), badAddr.err());
    Run demoBad = rq("demo", "--nodes", "1");
    assertEquals(2, demoBad.code());
    assertTrue(demoBad.err().contains("--nodes = 1"), demoBad.err());
  }

  @Test
  void noGridAnsweringExitsSixWithTheAddressesTried() {
    // nothing listens on these ports (this test's own range)
    long t0 = System.nanoTime();
    Run r = rq("status", "--discovery-port", "46260", "--port-range", "2", "--comm-port", "46360",
        "--connect-timeout", "3");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(6, r.code(), r.err());
    int p = 46260 + LocalGrid.portShift();
    assertTrue(r.err().contains("rq status: error: no grid answered at 127.0.0.1:" + p + ".." + (p + 1)), r.err());
    assertTrue(ms < 60_000, "took " + ms + " ms with a 3 s timeout");
  }

  @Test
  void nodeDefaultsFlagsAndConfigFile() throws Exception {
    NodeCommand.Resolved d = node();
    assertTrue(d.name().startsWith("rq-node-"));
    assertEquals(256L << 20, d.plugin().segmentSize());
    assertEquals("tcp", d.plugin().transport());
    assertEquals("127.0.0.1", d.plugin().transportOptions().get("tcp.host"));
    assertEquals(47500, d.grid().discoveryPort());
    assertFalse(d.exitOnStdinClose());

    Path cfg = tmp.resolve("node.properties");
    Files.writeString(cfg, String.join("\n",
        "# a node on a second machine",
        "name = n7",
        "segment-size = 1g",
        "discovery-addresses = 10.0.0.5:47500..47509, 10.0.0.6",
        "local-host = 10.0.0.7",
        "rails = 4",
        "failure-domain = rack-2",
        "loss-tolerance = 2",
        "transport-option = tcp.stallMillis=9000,tcp.bind=0.0.0.0",
        "host-master = false",
        "exit-on-stdin-close = true",
        "block-size = 16m"));
    NodeCommand.Resolved f = node("--config", cfg.toString(), "--rails", "2", "--name", "n8");
    assertEquals("n8", f.name(), "the flag wins over the file");
    assertEquals(2, f.plugin().rails(), "the flag wins over the file");
    RqPluginConfiguration p = f.plugin();
    assertEquals(1L << 30, p.segmentSize());
    assertEquals("rack-2", p.failureDomain());
    assertEquals(2, p.lossTolerance());
    assertEquals(16L << 20, p.blockSize());
    assertFalse(p.hostMaster());
    assertEquals("9000", p.transportOptions().get("tcp.stallMillis"));
    assertEquals("0.0.0.0", p.transportOptions().get("tcp.bind"));
    assertEquals("10.0.0.7", p.transportOptions().get("tcp.host"));
    assertTrue(f.exitOnStdinClose());
    int shift = LocalGrid.portShift();
    assertEquals(List.of("10.0.0.5:" + (47500 + shift) + ".." + (47509 + shift),
        "10.0.0.6:" + (47500 + shift) + ".." + (47509 + shift)), f.grid().effectiveAddresses());

    var ic = f.grid().igniteConfiguration("n8", false, 0);
    assertEquals("10.0.0.7", ic.getLocalHost());
    TcpDiscoverySpi disco = (TcpDiscoverySpi) ic.getDiscoverySpi();
    assertEquals("10.0.0.7", disco.getLocalAddress());
    assertEquals(47100 + shift, ((org.apache.ignite.spi.communication.tcp.TcpCommunicationSpi)
        ic.getCommunicationSpi()).getLocalPort());
    assertEquals("10.0.0.7", ((org.apache.ignite.spi.communication.tcp.TcpCommunicationSpi)
        ic.getCommunicationSpi()).getLocalAddress());
    assertTrue(((TcpDiscoveryVmIpFinder) disco.getIpFinder()).getRegisteredAddresses().stream()
        .anyMatch(a -> a.getHostString().equals("10.0.0.6") && a.getPort() == 47509 + shift));
  }

  @Test
  void nodeRefusesBadFlagsAndConfigFilesNamingTheProblem() throws Exception {
    Path cfg = tmp.resolve("bad.properties");
    Files.writeString(cfg, "segment-size = 1g\nsegmnet-size = 2g\n");
    Run unknown = rq("node", "--config", cfg.toString());
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("unknown key(s) [segmnet-size]"), unknown.err());

    Files.writeString(cfg, "rails = many\n");
    Run nan = rq("node", "--config", cfg.toString());
    assertEquals(2, nan.code());
    assertTrue(nan.err().contains("rails = 'many' is not a number"), nan.err());

    Run missingFile = rq("node", "--config", tmp.resolve("none.properties").toString());
    assertEquals(2, missingFile.code());
    assertTrue(missingFile.err().contains("none.properties"), missingFile.err());

    Run transport = rq("node", "--transport", "carrier-pigeon");
    assertEquals(2, transport.code());
    assertTrue(transport.err().contains("transport = 'carrier-pigeon', expected local, tcp or fabric"), transport.err());

    Run small = rq("node", "--segment-size", "1000");
    assertEquals(2, small.code());
    assertTrue(small.err().contains("segmentSize = 1000"), small.err());

    Run name = rq("node", "--name", "a b");
    assertEquals(2, name.code());
    assertTrue(name.err().contains("name = 'a b'"), name.err());

    Run opt = rq("node", "--transport-option", "novalue");
    assertEquals(2, opt.code());
    assertTrue(opt.err().contains("transport-option = 'novalue', expected KEY=VALUE"), opt.err());

    Run range = rq("node", "--port-range", "0");
    assertEquals(2, range.code());
    assertTrue(range.err().contains("port-range = 0"), range.err());
  }

  @Test
  void sizesAddressesAndProgressBar() {
    assertEquals(65536, Sizes.parse("x", "65536"));
    assertEquals(64 << 10, Sizes.parse("x", "64k"));
    assertEquals(256L << 20, Sizes.parse("x", "256M"));
    assertEquals(2L << 30, Sizes.parse("x", "2GiB"));
    assertEquals(1L << 40, Sizes.parse("x", "1t"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("block-size", "-5m"));
    assertTrue(e.getMessage().contains("block-size = '-5m'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Sizes.parse("x", "99999999999t"));
    assertEquals("1.5 GiB", Sizes.human(3L << 29));

    assertEquals("h:10..12", GridSettings.parseAddress("h:10..12", 0));
    assertEquals("h:2010..2012", GridSettings.parseAddress("h:10..12", 2000));
    assertEquals("[::1]:47500", GridSettings.parseAddress("[::1]:47500", 0));
    assertEquals("h:47500..47509", GridSettings.parseAddress("h", 0));
    for (String bad : List.of("h:0", "h:x", "h:5..4", "h:1..2..3", ":47500", "[::1", "h:1..5000")) {
      assertThrows(IllegalArgumentException.class, () -> GridSettings.parseAddress(bad, 0), bad);
    }

    StringWriter sw = new StringWriter();
    ProgressBar bar = new ProgressBar("stash k", new PrintWriter(sw), true);
    assertEquals("stash k [###############...............]  50%    50.0 / 100.0 MB   25.0 MB/s",
        bar.line(50_000_000, 100_000_000, 2.0));
    bar.update(1, 10);
    bar.finish();
    assertTrue(sw.toString().startsWith("\rstash k ["), sw.toString());
    StringWriter quiet = new StringWriter();
    new ProgressBar("x", new PrintWriter(quiet), false).update(1, 2);
    assertEquals("", quiet.toString());
  }
}
