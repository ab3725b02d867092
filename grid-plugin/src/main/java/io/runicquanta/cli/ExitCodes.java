package io.runicquanta.cli;

import io.grpc.StatusRuntimeException;
import io.runicquanta.codec.CodecException;
import io.runicquanta.plugin.RqException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** The {@code rq} exit codes and the one place exceptions are mapped to them and to messages. */
public final class ExitCodes {
  /** Success. */
  public static final int OK = 0;
  /** A data error: undecodable or corrupt symbols, an inconsistent layout, an I/O failure. */
  public static final int DATA_ERROR = 1;
  /** A usage error or bad input: wrong options, a missing input, an output that already exists. */
  public static final int USAGE = 2;
  /** No object has the key ({@code reveal}, {@code rm}). */
  public static final int NOT_FOUND = 3;
  /** An object with the key already exists ({@code stash}). */
  public static final int ALREADY_EXISTS = 4;
  /** The grid refused: too few nodes for the loss tolerance, or too little free space. */
  public static final int REFUSED = 5;
  /** No grid (or no master) answered in time, or nodes were lost during the operation. */
  public static final int UNAVAILABLE = 6;

  private ExitCodes() {}

  /** The exit code for an exception thrown by a command. */
  public static int of(Throwable e) {
    Throwable t = e instanceof UncheckedIOException ? e.getCause() : e;
    if (t instanceof picocli.CommandLine.ParameterException) {
      return USAGE;
    }
    if (t instanceof GridUnavailableException) {
      return UNAVAILABLE;
    }
    if (t instanceof RqException rq) {
      return switch (rq.code()) {
        case INVALID_ARGUMENT -> USAGE;
        case NOT_FOUND -> NOT_FOUND;
        case ALREADY_EXISTS -> ALREADY_EXISTS;
        case FAILED_PRECONDITION, RESOURCE_EXHAUSTED -> REFUSED;
        case UNAVAILABLE, DEADLINE_EXCEEDED -> UNAVAILABLE;
        case DATA_LOSS, INTERNAL -> DATA_ERROR;
      };
    }
    if (t instanceof StatusRuntimeException s) {
      return switch (s.getStatus().getCode()) {
        case INVALID_ARGUMENT, OUT_OF_RANGE -> USAGE;
        case NOT_FOUND -> NOT_FOUND;
        case ALREADY_EXISTS -> ALREADY_EXISTS;
        case FAILED_PRECONDITION, RESOURCE_EXHAUSTED -> REFUSED;
        case UNAVAILABLE, DEADLINE_EXCEEDED -> UNAVAILABLE;
        default -> DATA_ERROR;
      };
    }
    if (t instanceof CodecException) {
      return DATA_ERROR;
    }
    if (t instanceof NoSuchFileException
        || t instanceof FileAlreadyExistsException
        || t instanceof NotDirectoryException
        || t instanceof AccessDeniedException
        || t instanceof IllegalArgumentException) {
      return USAGE;
    }
    return DATA_ERROR;
  }

  /** A one-line message naming the problem (file exceptions carry the path and the reason). */
  public static String message(Throwable e) {
    Throwable t = e instanceof UncheckedIOException ? e.getCause() : e;
    if (t instanceof NoSuchFileException || t instanceof FileAlreadyExistsException
        || t instanceof AccessDeniedException || t instanceof NotDirectoryException) {
      java.nio.file.FileSystemException f = (java.nio.file.FileSystemException) t;
      String kind =
          t instanceof NoSuchFileException ? "not found"
              : t instanceof FileAlreadyExistsException ? "already exists"
              : t instanceof AccessDeniedException ? "permission denied" : "not a directory";
      return f.getFile() + ": " + (f.getReason() != null ? f.getReason() : kind);
    }
    if (t instanceof IOException) {
      return "I/O error: " + t.getMessage();
    }
    if (t instanceof StatusRuntimeException s) {
      return s.getStatus().getCode() + ": " + s.getStatus().getDescription();
    }
    String m = t.getMessage();
    return m == null ? t.toString() : m;
  }
}
