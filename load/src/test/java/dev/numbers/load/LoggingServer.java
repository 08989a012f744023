package dev.numbers.load;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A numbers server small enough to trust, for the load generator's tests: one thread,
 * "logging-server", accepts a connection, reads it to its end, appends the numbers it has not
 * seen to the log (stripped, one write per connection), and closes it, then takes the next.
 * Connections a churn client did not wait for queue in the backlog meanwhile, as they would at a
 * busy server. On purpose, it can lose one connection (read it, log nothing), reset one (read
 * and log it, then close it with a reset), or hold one open after reading and logging it: until
 * no connection has come for 300 ms, after every other connection, the last ones included, has
 * been closed; or until {@link #close}. A line
 * {@code terminate} stops it, as it stops numbers-server. It counts the connections and the
 * lines it read; any failure is kept for {@link #close} to throw.
 */
public final class LoggingServer implements AutoCloseable {

    /** Room for every connection of a test's churn run, queued while one is read. */
    private static final int BACKLOG = 1_000;
    private static final int DIGITS = 9;
    /** How long without a new connection before the one held is closed, if it is to be. */
    private static final int IDLE_MS = 300;

    private final ServerSocket listener;
    private final Path log;
    private final long lose;
    private final long hold;
    private final long reset;
    private volatile long releasedAtNanos;
    private volatile Socket held;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong lines = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final BitSet seen = new BitSet();
    private final Thread thread;

    private LoggingServer(ServerSocket listener, Path log, long lose, long hold, long reset) {
        this.listener = listener;
        this.log = log;
        this.lose = lose;
        this.hold = hold;
        this.reset = reset;
        this.thread = new Thread(this::serve, "logging-server");
    }

    /** Listens on a port of the OS's choice on 127.0.0.1 and logs to {@code log}, created empty. */
    public static LoggingServer start(Path log) throws IOException {
        return start(log, 0, 0, 0, false);
    }

    /** The same, except that the {@code lose}-th connection (from 1) is read and not logged. */
    public static LoggingServer losing(Path log, long lose) throws IOException {
        return start(log, lose, 0, 0, false);
    }

    /** The same, except that the first connection is closed after every other ({@link #firstClosedAtNanos}). */
    public static LoggingServer closingFirstLast(Path log) throws IOException {
        return start(log, 0, 1, 0, true);
    }

    /** The same, except that the {@code hold}-th connection (from 1) is read and logged, and never closed. */
    public static LoggingServer neverClosing(Path log, long hold) throws IOException {
        return start(log, 0, hold, 0, false);
    }

    /** The same, except that the {@code reset}-th connection (from 1) is read and logged, then reset. */
    public static LoggingServer resetting(Path log, long reset) throws IOException {
        return start(log, 0, 0, reset, false);
    }

    private static LoggingServer start(Path log, long lose, long hold, long reset, boolean releaseWhenIdle)
            throws IOException {
        Files.write(log, new byte[0]);
        ServerSocket listener = new ServerSocket(0, BACKLOG, InetAddress.getLoopbackAddress());
        if (releaseWhenIdle) {
            listener.setSoTimeout(IDLE_MS); // an accept that times out is the idle moment
        }
        LoggingServer server = new LoggingServer(listener, log, lose, hold, reset);
        server.thread.start();
        return server;
    }

    /** When {@link #closingFirstLast}'s server began to close the first connection ({@link System#nanoTime}); 0 before. */
    public long firstClosedAtNanos() {
        return releasedAtNanos;
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Connections accepted so far. */
    public long connections() {
        return connections.get();
    }

    /** Waits up to 10 s for a {@code terminate} line; true if one came. */
    public boolean awaitTerminate() throws InterruptedException {
        return terminated.await(10, TimeUnit.SECONDS);
    }

    /** Number lines read so far, repeats and lost ones included. */
    public long lines() {
        return lines.get();
    }

    private void serve() {
        try {
            while (true) {
                Socket connection;
                try {
                    connection = listener.accept();
                } catch (SocketTimeoutException e) {
                    Socket release = held;
                    if (release != null) { // idle: every connection but the one held has been served
                        held = null;
                        releasedAtNanos = System.nanoTime();
                        release.close();
                    }
                    continue;
                }
                long number = connections.incrementAndGet();
                try {
                    StringBuilder fresh = new StringBuilder();
                    boolean terminate = read(connection.getInputStream(), fresh);
                    if (terminate) {
                        terminated.countDown();
                        return;
                    }
                    if (number != lose) {
                        append(fresh);
                    }
                } finally {
                    if (number == hold) {
                        held = connection;
                    } else {
                        if (number == reset) {
                            connection.setSoLinger(true, 0); // a close that sends a reset, not an end of stream
                        }
                        connection.close();
                    }
                }
            }
        } catch (SocketException e) {
            if (!listener.isClosed()) {
                failure.set(e);
            } // else: close() ended the accept, which is how this server stops
        } catch (IOException | RuntimeException e) {
            failure.set(e);
        }
    }

    private void append(CharSequence numbers) throws IOException {
        try (OutputStream out = Files.newOutputStream(log, StandardOpenOption.APPEND)) {
            out.write(numbers.toString().getBytes(StandardCharsets.US_ASCII));
        }
    }

    /**
     * Reads lines of nine digits to the end of the stream; the new numbers go to {@code fresh},
     * stripped. True if it read {@code terminate} instead, the end of the serving.
     */
    private boolean read(InputStream stream, StringBuilder fresh) throws IOException {
        InputStream in = new BufferedInputStream(stream);
        String newline = new String(Workload.NEWLINE, StandardCharsets.US_ASCII);
        byte[] line = new byte[DIGITS + Workload.NEWLINE.length];
        while (true) {
            int got = in.readNBytes(line, 0, line.length);
            if (got == 0) {
                return false;
            }
            if (got < line.length) {
                throw new IOException("a partial line of " + got + " bytes");
            }
            String digits = new String(line, 0, DIGITS, StandardCharsets.US_ASCII);
            if (digits.equals("terminate")) {
                return true;
            }
            int number = Integer.parseInt(digits);
            lines.incrementAndGet();
            if (!seen.get(number)) {
                seen.set(number);
                fresh.append(number).append(newline);
            }
        }
    }

    /** Stops accepting and waits for the thread; throws what it failed with, if anything. */
    @Override
    public void close() throws Exception {
        listener.close();
        thread.join(10_000);
        Socket stillHeld = held;
        if (stillHeld != null) {
            stillHeld.close();
        }
        Throwable failed = failure.get();
        if (failed instanceof Exception e) {
            throw e;
        }
        if (failed != null) {
            throw new AssertionError("the logging server failed", failed);
        }
    }
}
