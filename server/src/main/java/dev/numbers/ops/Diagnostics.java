package dev.numbers.ops;

import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The server's diagnostics: one line per event on stderr,
 * {@code 2026-11-24T11:36:32.123Z INFO  message}. stdout is reserved for the report lines, so
 * nothing here ever goes there.
 *
 * <p>Thread-safe; used for connection and lifecycle events, never per number. {@code --quiet}
 * keeps warnings and errors only. (Named so as not to be confused with the log of numbers.)
 */
public final class Diagnostics {

    private enum Level { INFO, WARN, ERROR }

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private static volatile PrintStream sink = System.err;
    private static volatile boolean quiet;

    private Diagnostics() {
    }

    /** Sends diagnostics to {@code stream}; with {@code quietMode}, drops INFO lines. */
    public static void configure(PrintStream stream, boolean quietMode) {
        sink = stream;
        quiet = quietMode;
    }

    public static void info(String message) {
        write(Level.INFO, message);
    }

    public static void warn(String message) {
        write(Level.WARN, message);
    }

    public static void error(String message) {
        write(Level.ERROR, message);
    }

    /**
     * Reports a failure nobody expected (an uncaught exception, a periodic task that threw) as
     * one ERROR line naming where it came from, so that it is seen even with {@code --quiet} and
     * never as a bare stack trace.
     */
    public static void unexpected(String where, Throwable failure) {
        StackTraceElement[] trace = failure.getStackTrace();
        String at = trace.length == 0 ? "" : " at " + trace[0];
        error(where + " failed, please report it: " + failure + at);
    }

    private static void write(Level level, String message) {
        if (quiet && level == Level.INFO) {
            return;
        }
        String line = TIMESTAMP.format(Instant.now()) + ' ' + String.format("%-5s", level) + ' ' + message;
        PrintStream out = sink;
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    /** A short, human cause for an I/O failure: NIO exceptions often carry only a path. */
    public static String describe(Throwable e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
