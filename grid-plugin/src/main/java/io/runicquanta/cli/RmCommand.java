package io.runicquanta.cli;

import io.runicquanta.plugin.RqException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code rq rm KEY}: removes an object. */
@Command(
    name = "rm",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Removes the object KEY and frees its space (once readers in progress are done). Exits"
          + " with 3 if there is no such object."
    })
final class RmCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "KEY", description = "Key of the object.")
  String key;

  @Mixin ClientOptions grid;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    boolean removed;
    try (GridClient c = grid.connect()) {
      removed = c.store().remove(key);
    }
    if (!removed) {
      throw new RqException(RqException.Code.NOT_FOUND, "no object with key '" + key + "'", null);
    }
    spec.commandLine().getOut().println("removed '" + key + "'");
    spec.commandLine().getOut().flush();
    return ExitCodes.OK;
  }
}
