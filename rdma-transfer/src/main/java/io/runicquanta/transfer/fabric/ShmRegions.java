package io.runicquanta.transfer.fabric;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes the shared-memory regions that libfabric's {@code shm} provider left behind for processes
 * that no longer exist.
 *
 * <p>libfabric 1.17's {@code shm} names each endpoint's region {@code /dev/shm/<pid>:<n>:<endpoint>}
 * and unlinks it when the endpoint closes, or from its {@code SIGTERM}/{@code SIGINT} handlers. A
 * process killed with {@code SIGKILL}, or one that dies by a real crash (the transport puts the JVM's
 * {@code SIGSEGV}/{@code SIGBUS} handlers back, see {@link LibFabric}), leaves its regions behind:
 * 16 MiB of tmpfs per rail that nothing else ever frees. When a {@code shm} transport starts it calls
 * {@link #reapStale}: a file is removed only if its name has that exact form, its owner is this
 * process's user, its pid is not this process and no process with that pid exists. A pid that was
 * reused by a live process keeps its files (they are left, never wrongly removed). Where several pid
 * namespaces share one {@code /dev/shm} (containers with a shared IPC mount) a live peer of another
 * namespace looks dead from here, so the reaping can be turned off with {@code
 * fabric.shmReapStale=false}.
 */
public final class ShmRegions {
  private static final System.Logger LOG = System.getLogger(ShmRegions.class.getName());
  private static final Pattern NAME = Pattern.compile("(\\d{1,10}):(\\d{1,10}):(\\d{1,10})");

  private ShmRegions() {}

  /** What {@link #reapStale} removed. */
  public record Reaped(int files, long bytes) {}

  /**
   * Removes the stale {@code shm} regions in {@code dir} (normally {@code /dev/shm}) as described in
   * the class comment. Files that vanish meanwhile or cannot be removed are skipped; a missing
   * directory reaps nothing.
   */
  public static Reaped reapStale(Path dir) {
    Object me;
    try {
      me = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return new Reaped(0, 0); // no /proc or no unix attributes: cannot tell whose files they are
    }
    long self = ProcessHandle.current().pid();
    int files = 0;
    long bytes = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        long pid = Long.parseLong(m.group(1));
        if (pid == self || ProcessHandle.of(pid).isPresent()) {
          continue;
        }
        try {
          if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
              || !me.equals(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS))) {
            continue;
          }
          long size = Files.size(p);
          Files.delete(p);
          files++;
          bytes += size;
        } catch (NoSuchFileException gone) {
          // removed by someone else meanwhile
        } catch (IOException e) {
          LOG.log(System.Logger.Level.DEBUG, "cannot remove stale shm region " + p + ": " + e);
        }
      }
    } catch (NoSuchFileException | java.nio.file.NotDirectoryException e) {
      return new Reaped(0, 0);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot list " + dir + " for stale shm regions: " + e);
    }
    if (files > 0) {
      LOG.log(System.Logger.Level.INFO, "removed " + files + " stale shm regions (" + bytes
          + " bytes) of processes that no longer exist from " + dir);
    }
    return new Reaped(files, bytes);
  }
}
