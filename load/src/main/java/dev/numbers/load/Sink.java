package dev.numbers.load;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A null server ({@code load --sink}): accepts any number of connections, reads each to its end
 * into a buffer that is thrown away, then closes it. It does what numbers-server does minus the
 * work, so a load run against it measures the ceiling this machine's loopback and the load
 * generator set.
 *
 * <p>{@link #serve} runs the accept loop on the caller's thread until {@link #stop} (any thread:
 * a shutdown hook's), then prints a summary: connections served, bytes read, and the rate
 * while at least one connection was open, so that idle time between runs does not dilute it.
 * Each connection is read by a daemon thread of its own, "sink-reader-N"; the byte count is
 * added once per read (256 KB), never per line.
 */
public final class Sink implements AutoCloseable {

    /** The server's read size (ClientSession.READ_BUFFER_BYTES), so that only the work differs. */
    private static final int READ_BUFFER_BYTES = 256 * 1024;
    private static final int MAX_PORT = 65_535;
    /** How long {@link #awaitServed} waits for the summary after a stop: a stop must never hang. */
    private static final long SUMMARY_WAIT_MS = 2_000;

    private final ServerSocketChannel listener;
    private final LongAdder bytesRead = new LongAdder();
    private final CountDownLatch served = new CountDownLatch(1);

    // Guarded by this: changed once per connection and once per stop.
    private final Set<SocketChannel> open = new HashSet<>();
    private long connections;
    private long busySince;
    private long busyNanos;
    private String stoppedBy;

    private Sink(ServerSocketChannel listener) {
        this.listener = listener;
    }

    /**
     * Connections the kernel holds for the accept loop, as numbers-server's: clients that
     * reconnect without waiting (load --reconnect-every) queue here, and a backlog of 128
     * overflowed, costing each dropped handshake a one-second retry (134 connections a second).
     */
    static final int BACKLOG = 4_096;

    /**
     * Listens on {@code host:port}; port 0 picks a free one ({@link #address}).
     *
     * @throws IllegalArgumentException if the port is out of range (the message names --port)
     * @throws IOException if it cannot listen there (the port is in use, say)
     */
    public static Sink open(InetAddress host, int port) throws IOException {
        if (port < 0 || port > MAX_PORT) {
            throw new IllegalArgumentException("--port must be 0 to " + MAX_PORT + ", got " + port);
        }
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.bind(new InetSocketAddress(host, port), BACKLOG);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        return new Sink(listener);
    }

    /** Where it listens, with the port it got. */
    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    /**
     * Says on {@code err} where it listens and how to stop it, serves connections until
     * {@link #stop}, then prints the summary line on {@code err}.
     *
     * @throws IOException if accepting fails for another reason than the stop; no summary then
     */
    public void serve(PrintWriter err) throws IOException {
        try {
            err.println("sink: listening on " + LoadGenerator.describe(address())
                    + ", reading and discarding; Ctrl+C or SIGTERM stops it");
            err.flush();
            int readers = 0;
            while (true) {
                SocketChannel connection;
                try {
                    connection = listener.accept();
                } catch (ClosedChannelException e) {
                    if (stopped()) {
                        break;
                    }
                    throw e;
                }
                if (!register(connection)) {
                    closeAfterStop(connection);
                    break;
                }
                Thread reader = new Thread(() -> drain(connection, err), "sink-reader-" + ++readers);
                reader.setDaemon(true);
                reader.setUncaughtExceptionHandler((t, e) -> {
                    err.println("sink: " + t.getName() + " failed, please report it: " + e);
                    err.flush();
                });
                reader.start();
            }
            err.println(summary());
            err.flush();
        } finally {
            served.countDown();
        }
    }

    /**
     * Stops serving: closes the listener and every open connection, and returns at once. Any
     * thread; the first call names the cause ("a signal"), later ones do nothing.
     */
    public void stop(String cause) {
        List<SocketChannel> toClose;
        synchronized (this) {
            if (stoppedBy != null) {
                return;
            }
            stoppedBy = cause;
            toClose = new ArrayList<>(open);
        }
        closeAfterStop(listener);
        toClose.forEach(Sink::closeAfterStop);
    }

    /** Waits, at most 2 s, for {@link #serve} to print its summary after a stop. */
    public void awaitServed() {
        try {
            if (!served.await(SUMMARY_WAIT_MS, TimeUnit.MILLISECONDS)) {
                System.err.println("sink: no summary within " + SUMMARY_WAIT_MS + " ms of the stop; exiting without it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code sink: stopped by a signal: served 5 connections, read 100000000 bytes in 0.264 s of reading: 378.8 MB/s}. */
    synchronized String summary() {
        long busy = busyNanos + (open.isEmpty() ? 0 : System.nanoTime() - busySince);
        long bytes = bytesRead.sum();
        double seconds = busy / 1e9;
        return String.format(Locale.ROOT, "sink: stopped by %s: served %d connection%s, read %d bytes in %.3f s of reading: %.1f MB/s",
                stoppedBy == null ? "nothing yet" : stoppedBy, connections, connections == 1 ? "" : "s", bytes, seconds,
                seconds > 0 ? bytes / seconds / 1e6 : 0.0);
    }

    @Override
    public void close() {
        stop("close");
    }

    private synchronized boolean stopped() {
        return stoppedBy != null;
    }

    /** Counts a new connection; false if the sink has stopped (the caller closes it). */
    private synchronized boolean register(SocketChannel connection) {
        if (stoppedBy != null) {
            return false;
        }
        if (open.isEmpty()) {
            busySince = System.nanoTime();
        }
        open.add(connection);
        connections++;
        return true;
    }

    private synchronized void unregister(SocketChannel connection) {
        if (open.remove(connection) && open.isEmpty()) {
            busyNanos += System.nanoTime() - busySince;
        }
    }

    private void drain(SocketChannel connection, PrintWriter err) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
        try (connection) {
            int read;
            while ((read = connection.read(buffer)) >= 0) {
                bytesRead.add(read);
                buffer.clear();
            }
        } catch (IOException e) {
            if (!stopped()) { // after a stop, the stop closed it
                err.println("sink: a connection failed: " + e.getMessage());
                err.flush();
            }
        } finally {
            unregister(connection);
        }
    }

    private static void closeAfterStop(Channel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing on the way out: the channel has nothing more to give, and the summary says why it stopped.
        }
    }
}
