package dev.numbers;

import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Diagnostics: one line per event on stderr, {@code 2026-11-24T11:36:32.123Z INFO  message}.
 * stdout is reserved for the report lines, so nothing here ever goes there.
 *
 * <p>Thread-safe; used for connection and lifecycle events, never per number. {@code --quiet}
 * keeps warnings and errors only.
 */
final class Log {

    enum Level { INFO, WARN, ERROR }

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private static volatile PrintStream sink = System.err;
    private static volatile boolean quiet;

    private Log() {
    }

    /** Sends diagnostics to {@code stream}; with {@code quietMode}, drops INFO lines. */
    static void configure(PrintStream stream, boolean quietMode) {
        sink = stream;
        quiet = quietMode;
    }

    static void info(String message) {
        write(Level.INFO, message);
    }

    static void warn(String message) {
        write(Level.WARN, message);
    }

    static void error(String message) {
        write(Level.ERROR, message);
    }

    private static void write(Level level, String message) {
        if (quiet && level == Level.INFO) {
            return;
        }
        String line = TIMESTAMP.format(java.time.Instant.now()) + ' ' + String.format("%-5s", level) + ' ' + message;
        PrintStream out = sink;
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    /** A short, human cause for an I/O failure: NIO exceptions often carry only a path. */
    static String describe(Throwable e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
