package dev.numbers.ops;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

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

    private enum Level { INFO, WARN, ERROR }

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final byte[] NEWLINE = System.lineSeparator().getBytes(StandardCharsets.US_ASCII);

    private static volatile Output output = new Output(stderr());
    private static volatile boolean quiet;

    /** Lines dropped in this run, for the stopped line. */
    private static final AtomicLong droppedTotal = new AtomicLong();

    private Diagnostics() {
    }

    /**
     * Sends diagnostics to {@code stream} from now on (null: stderr); with {@code quietMode}, drops INFO lines.
     * Lines still queued for the previous stream are written to it first, for a bounded time.
     */
    public static void configure(OutputStream stream, boolean quietMode) {
        Output previous = output;
        output = new Output(stream == null ? stderr() : stream);
        quiet = quietMode;
        previous.close();
    }

    /**
     * The process's stderr, as a stream of its own: not {@code System.err}, whose lock a writer
     * blocked on a full pipe would hold against everybody else who prints there.
     */
    private static OutputStream stderr() {
        return new FileOutputStream(FileDescriptor.err);
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
     * An INFO line about one connection (connected, ended, closed): shown unless more than
     * {@link #CLIENT_LINES_PER_SECOND} came in the last second, else counted.
     */
    public static void client(String message) {
        if (!quiet) {
            output.client(message);
        }
    }

    /** A line as the command line prints its errors, {@code numbers-server: ...}: no time, no level. */
    public static void plain(String line) {
        output.offer(line);
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

    /** Lines dropped in this run because stderr did not take them in time. */
    public static long droppedLines() {
        return droppedTotal.get();
    }

    /**
     * Waits until every line queued so far is written, at most {@code timeoutMillis}.
     *
     * @return true if they were; false if stderr did not take them in time
     */
    public static boolean awaitWritten(long timeoutMillis) {
        return output.awaitWritten(timeoutMillis);
    }

    private static void write(Level level, String message) {
        if (quiet && level == Level.INFO) {
            return;
        }
        output.offer(line(level, message));
    }

    private static String line(Level level, String message) {
        return TIMESTAMP.format(Instant.now()) + ' ' + String.format("%-5s", level) + ' ' + message;
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

    /** One stream, its queue, its writer thread, and its budget of connection lines. */
    private static final class Output implements Runnable {

        /** Queued after the last line by {@link #close}: the writer ends there. */
        private static final String END = new String("end of output");
        private static final long CLOSE_WAIT_MS = 2_000;

        private final OutputStream stream;
        private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE_LINES);
        /** Lines dropped since stderr last took one. */
        private final AtomicLong droppedSinceWritten = new AtomicLong();
        /** Lines queued and lines written (or failed) so far; guarded by {@code this}. */
        private long queued;
        private long done;
        // The connection lines' budget: a window of a second, its lines so far, and those not shown.
        private final AtomicLong clientWindowStart = new AtomicLong(System.nanoTime());
        private final AtomicInteger clientLinesInWindow = new AtomicInteger();
        private final AtomicLong clientLinesHidden = new AtomicLong();

        Output(OutputStream stream) {
            this.stream = stream;
            Thread writer = new Thread(this, "diagnostics");
            writer.setDaemon(true);
            writer.start();
        }

        void client(String message) {
            rollClientWindow(System.nanoTime());
            if (clientLinesInWindow.incrementAndGet() <= CLIENT_LINES_PER_SECOND) {
                offer(line(Level.INFO, message));
            } else {
                clientLinesHidden.incrementAndGet();
            }
        }

        /** Starts a new second of connection lines when the last has passed; says what it hid. */
        private void rollClientWindow(long now) {
            long start = clientWindowStart.get();
            if (now - start >= SECOND_NANOS && clientWindowStart.compareAndSet(start, now)) {
                clientLinesInWindow.set(0);
                long hidden = clientLinesHidden.getAndSet(0);
                if (hidden > 0) {
                    offer(line(Level.INFO, hidden + " more connection lines in the last second not shown (at most "
                            + CLIENT_LINES_PER_SECOND + " a second); STATS has the counts"));
                }
            }
        }

        void offer(String line) {
            synchronized (this) {
                if (!queue.offer(line)) {
                    droppedSinceWritten.incrementAndGet();
                    droppedTotal.incrementAndGet();
                    return;
                }
                queued++;
            }
        }

        @Override
        public void run() {
            try {
                while (true) {
                    String line = queue.poll(1, TimeUnit.SECONDS);
                    if (line == END) {
                        return;
                    }
                    if (line == null) {
                        rollClientWindow(System.nanoTime()); // a flood that has stopped is summed up too
                        continue;
                    }
                    print(line);
                    long dropped = droppedSinceWritten.getAndSet(0);
                    if (dropped > 0) {
                        print(line(Level.WARN, dropped + " diagnostic lines were dropped: stderr did not take them in time"));
                    }
                    synchronized (this) {
                        done++;
                        notifyAll();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // nobody interrupts it; if somebody does, it ends
            }
        }

        private void print(String line) {
            try {
                stream.write(line.getBytes(StandardCharsets.UTF_8));
                stream.write(NEWLINE);
                stream.flush();
            } catch (IOException ignored) {
                // stderr is closed: there is nowhere left to say anything, and nothing else to do.
            }
        }

        synchronized boolean awaitWritten(long timeoutMillis) {
            long target = queued;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            try {
                for (long left = timeoutMillis; done < target && left > 0; ) {
                    wait(left);
                    left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return done >= target;
        }

        /** Ends the writer once the lines queued so far are written, waiting for them a bounded time. */
        void close() {
            awaitWritten(CLOSE_WAIT_MS);
            queue.offer(END);
        }
    }
}
