package io.runicquanta.cli;

import io.runicquanta.plugin.ObjectStat;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rq reveal KEY OUT}: writes an object's bytes to a file. The bytes go to a temporary file
 * beside OUT that is renamed to OUT only when the whole object has been decoded, so a failed reveal
 * leaves no OUT.
 */
@Command(
    name = "reveal",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Writes the object KEY to the file OUT, byte-identical to what was stashed, decoding it"
          + " from the live nodes' shards. OUT appears only when the whole object is back."
    })
final class RevealCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "KEY", description = "Key of the object.")
  String key;

  @Parameters(index = "1", paramLabel = "OUT", description = "File to write (must not exist unless --force).")
  Path out;

  @Option(names = {"-f", "--force"}, description = "Replace OUT if it exists.")
  boolean force;

  @Option(names = "--progress", negatable = true, description = "Show a progress bar on stderr (default: when stderr is a terminal).")
  Boolean progress;

  @Mixin ClientOptions grid;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Path target = out.toAbsolutePath();
    if (Files.exists(target) && !force) {
      throw new FileAlreadyExistsException(out.toString(), null, "already exists (use --force to replace it)");
    }
    if (Files.isDirectory(target)) {
      throw new FileAlreadyExistsException(out.toString(), null, "is a directory");
    }
    Path dir = target.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new java.nio.file.NoSuchFileException(String.valueOf(dir), null, "directory of OUT not found");
    }
    long start = 0;
    long bytes = 0;
    ProgressBar bar = new ProgressBar("reveal " + key, spec.commandLine().getErr(),
        progress != null ? progress : ProgressBar.isTerminal());
    try (GridClient c = grid.connect()) {
      start = System.nanoTime();
      ObjectStat stat = c.store().stat(key);
      Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".rq-part");
      try {
        try (InputStream in = c.store().reveal(key);
            OutputStream os = Files.newOutputStream(tmp)) {
          byte[] buf = new byte[1 << 20];
          int n;
          while ((n = in.read(buf)) > 0) {
            os.write(buf, 0, n);
            bytes += n;
            bar.update(bytes, stat.size());
          }
        } finally {
          bar.finish();
        }
        if (bytes != stat.size()) {
          throw new io.runicquanta.plugin.RqException(io.runicquanta.plugin.RqException.Code.DATA_LOSS,
              "object '" + key + "' gave " + bytes + " bytes, its size is " + stat.size(), null);
        }
        if (force) {
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } else {
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    spec.commandLine().getOut().printf(Locale.ROOT, "revealed '%s' into %s: %d bytes; %.2f s (after joining the grid), %.1f MB/s%n",
        key, out, bytes, secs, bytes / 1e6 / secs);
    spec.commandLine().getOut().flush();
    return ExitCodes.OK;
  }
}
