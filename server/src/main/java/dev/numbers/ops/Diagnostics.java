package dev.numbers.ops;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The server's diagnostics: one line per event on stderr,
 * {@code 2026-11-24T11:36:32.123Z INFO  message}. stdout is reserved for the report lines, so
 * nothing here ever goes there.
 *
 * <p>Never blocks its caller. A line goes into a bounded queue ({@link #QUEUE_LINES}) that one
 * daemon thread, {@code diagnostics}, writes out; a stderr that does not take lines (a pipe
 * nobody reads, a terminal after Ctrl+S) stalls only that thread. When the queue is full a line
 * is dropped and counted; the count is said as soon as stderr takes a line again, and the total
 * is in the {@code stopped} line ({@link #droppedLines}). The command line waits a bounded time
 * for the last lines at exit ({@link #awaitWritten}). A JDK queue and a thread are all this needs:
 * the logging libraries' non-blocking appenders (Logback's {@code neverBlock}, Log4j's
 * {@code blocking="false"}) drop the same way but do not say how many, and would cost a jar and
 * start-up time for that.
 *
 * <p>Lines about one connection ({@link #client}) are bounded too: at most
 * {@link #CLIENT_LINES_PER_SECOND} a second, the rest counted and summed up once a second, so a
 * flood of short connections writes a few lines a second, not two per connection.
 *
 * <p>Thread-safe; used for connection and lifecycle events, never per number. {@code --quiet}
 * keeps warnings and errors only. (Named so as not to be confused with the log of numbers.)
 */
public final class Diagnostics {

    /** Lines waiting for stderr, about 400 KB of text; a line beyond them is dropped. */
    public static final int QUEUE_LINES = 4_096;
    /** Connection lines shown per second; the others are counted in one line a second. */
    public static final int CLIENT_LINES_PER_SECOND = 20;

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final byte[] NEWLINE = System.lineSeparator().getBytes(StandardCharsets.US_ASCII);
    private static final ArrayBlockingQueue<String> QUEUE = new ArrayBlockingQueue<>(QUEUE_LINES);
    /** Guards {@link #queued} and {@link #written}, and is notified at each line written. */
    private static final Object PROGRESS = new Object();
    private static final AtomicLong DROPPED = new AtomicLong();
    private static final AtomicLong DROPPED_UNSAID = new AtomicLong();

    /**
     * Where the lines go: the process's stderr as a stream of its own, not {@code System.err},
     * whose lock a writer blocked on a full pipe would hold against everybody else who prints there.
     */
    private static volatile OutputStream sink = new FileOutputStream(FileDescriptor.err);
    private static volatile boolean quiet;
    private static long queued;
    private static long written;
    // The connection lines' budget: when this second began, its lines so far, those not shown.
    private static long clientSecondStart = System.nanoTime();
    private static int clientLinesThisSecond;
    private static long clientLinesHidden;

    static {
        Thread writer = new Thread(Diagnostics::writeForever, "diagnostics");
        writer.setDaemon(true);
        writer.start();
    }

    private Diagnostics() {
    }

    /**
     * Sends diagnostics to {@code stream} from now on (null: stderr); with {@code quietMode}, drops
     * INFO lines. The lines queued so far go to the previous stream first, for a bounded time.
     */
    public static void configure(OutputStream stream, boolean quietMode) {
        awaitWritten(2_000);
        sink = stream == null ? new FileOutputStream(FileDescriptor.err) : stream;
        quiet = quietMode;
        synchronized (PROGRESS) {
            clientLinesThisSecond = 0;
            clientLinesHidden = 0;
        }
    }

    public static void info(String message) {
        if (!quiet) {
            offer(line("INFO ", message));
        }
    }

    public static void warn(String message) {
        offer(line("WARN ", message));
    }

    public static void error(String message) {
        offer(line("ERROR", message));
    }

    /** An INFO line about one connection: shown unless {@link #CLIENT_LINES_PER_SECOND} came this second, else counted. */
    public static void client(String message) {
        if (quiet) {
            return;
        }
        boolean shown;
        synchronized (PROGRESS) {
            rollClientSecond();
            shown = ++clientLinesThisSecond <= CLIENT_LINES_PER_SECOND;
            clientLinesHidden += shown ? 0 : 1;
        }
        if (shown) {
            offer(line("INFO ", message));
        }
    }

    /** A line as the command line prints its errors, {@code numbers-server: ...}: no time, no level. */
    public static void plain(String line) {
        offer(line);
    }

    /**
     * Reports a failure nobody expected (an uncaught exception, a periodic task that threw) as
     * one ERROR line naming where it came from, so that it is seen even with {@code --quiet} and
     * never as a bare stack trace.
     */
    public static void unexpected(String where, Throwable failure) {
        StackTraceElement[] trace = failure.getStackTrace();
        error(where + " failed, please report it: " + failure + (trace.length == 0 ? "" : " at " + trace[0]));
    }

    /**
     * Takes over {@code logger} (a library's, through java.util.logging): its warnings and errors
     * become one WARN line each, {@code prefix: message}; nothing of it reaches stderr itself.
     */
    public static void takeOver(Logger logger, String prefix) {
        logger.setUseParentHandlers(false);
        logger.setLevel(Level.WARNING);
        logger.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                warn(prefix + ": " + record.getMessage() + (record.getThrown() == null ? "" : ": " + record.getThrown()));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    /** Lines dropped in this run because stderr did not take them in time. */
    public static long droppedLines() {
        return DROPPED.get();
    }

    /**
     * Waits until every line queued so far is written, at most {@code timeoutMillis}.
     *
     * @return true if they were; false if stderr did not take them in time
     */
    public static boolean awaitWritten(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (PROGRESS) {
            long target = queued;
            try {
                for (long left = timeoutMillis; written < target && left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
                    PROGRESS.wait(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return written >= target;
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
        if (e instanceof UnsupportedAddressTypeException) {
            return "this machine has no IPv6 (or the JVM runs IPv4 only), so it cannot listen on an IPv6 address";
        }
        if (e instanceof BindException && "Address already in use".equals(e.getMessage())) {
            return "address already in use";
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    private static String line(String level, String message) {
        return TIMESTAMP.format(Instant.now()) + ' ' + level + ' ' + message;
    }

    private static void offer(String line) {
        synchronized (PROGRESS) {
            if (QUEUE.offer(line)) {
                queued++;
                return;
            }
        }
        DROPPED.incrementAndGet();
        DROPPED_UNSAID.incrementAndGet();
    }

    /** Starts a new second of connection lines when the last has passed, and says what it hid. Under {@link #PROGRESS}. */
    private static void rollClientSecond() {
        long now = System.nanoTime();
        if (now - clientSecondStart >= SECOND_NANOS) {
            clientSecondStart = now;
            clientLinesThisSecond = 0;
            if (clientLinesHidden > 0 && !quiet) {
                offer(line("INFO ", clientLinesHidden + " more connection lines in the last second not shown (at most "
                        + CLIENT_LINES_PER_SECOND + " a second); STATS has the counts"));
            }
            clientLinesHidden = 0;
        }
    }

    /** The writer thread: takes a line, writes it, says what was dropped once stderr takes lines again. */
    private static void writeForever() {
        while (true) {
            String next;
            try {
                next = QUEUE.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return; // nobody interrupts it; if somebody does, it ends
            }
            if (next == null) {
                synchronized (PROGRESS) {
                    rollClientSecond(); // a flood that has stopped is summed up too
                }
                continue;
            }
            print(next);
            long dropped = DROPPED_UNSAID.getAndSet(0);
            if (dropped > 0) {
                print(line("WARN ", dropped + " diagnostic lines were dropped: stderr did not take them in time"));
            }
            synchronized (PROGRESS) {
                written++;
                PROGRESS.notifyAll();
            }
        }
    }

    private static void print(String line) {
        OutputStream out = sink;
        try {
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.write(NEWLINE);
            out.flush();
        } catch (IOException ignored) {
            // stderr is closed: there is nowhere left to say anything, and nothing else to do.
        }
    }
}
