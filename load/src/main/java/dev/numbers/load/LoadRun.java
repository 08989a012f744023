package dev.numbers.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends a {@link Workload} to a server, one thread per client, and measures it end to end: the
 * clock starts when every client is connected and stops when the server has closed every
 * connection after reading its end of stream. For numbers-server that means every number sent
 * is in the log (the server writes each batch before it reads more), so the rate is "into
 * numbers.log", not "into the socket".
 *
 * <p>By default each client has one connection. With {@code reconnectEvery} (churn) a client
 * cuts its payload into connections of that many numbers. Either way a client half-closes each
 * connection as soon as it is written and hands it to the {@link CloseWatcher}, which the run's
 * own thread runs, then goes on without waiting for the server, as a naive client in a loop
 * does; the watcher stops the clock when the server has closed them all. Allocates nothing per
 * write; per connection, the connection itself and what the watcher keeps of it.
 */
final class LoadRun {

    /** Lines per write: 1 MB, so progress moves and a duration is checked often enough. */
    private static final int CHUNK_LINES = 100_000;
    /** Why a client's write failed, said after the error. */
    private static final String CLOSED_BY_SERVER = " (the server closed the connection: too many clients, or it stopped)";
    /** The JDK's message for EMFILE, on every platform it runs this on (strerror's). */
    private static final String TOO_MANY_OPEN_FILES = "Too many open files";

    /**
     * What a run did. {@code linesSent[c]} counts the lines client c wrote (whole lines only);
     * {@code connections} the connections opened, every client's; the clock ran from
     * {@code startNanos} to {@code endNanos} ({@link System#nanoTime}).
     */
    record Result(long[] linesSent, long connections, long startNanos, long endNanos, List<String> failures) {
        long totalLines() {
            long total = 0;
            for (long lines : linesSent) {
                total += lines;
            }
            return total;
        }

        long elapsedNanos() {
            return endNanos - startNanos;
        }
    }

    /** A client could not open its next connection; the message says which and why. */
    private static final class ReconnectFailed extends IOException {
        private static final long serialVersionUID = 1L;

        ReconnectFailed(long connection, String why, IOException cause) {
            super("cannot open connection " + connection + ": " + why, cause);
        }
    }

    private final InetSocketAddress server;
    private final Workload workload;
    private final Duration duration;
    private final long linesPerConnection;
    private final long closeTimeoutNanos;
    private final AtomicLong linesSent = new AtomicLong();
    /** Set when the run gives up on the server: what the clients fail with then is its doing, not news. */
    private volatile boolean abandoned;
    /** Clients that run out of file descriptors say so once, not once each. */
    private final AtomicBoolean toldTooManyOpenFiles = new AtomicBoolean();

    /**
     * @param duration          null to send each payload once; else repeat it until this much time passed
     * @param reconnectEvery    null for one connection per client; else the lines of each connection
     * @param closeTimeoutNanos how long connections may wait for the server's close with none
     *                          closed before the run fails ({@link CloseWatcher})
     */
    LoadRun(InetSocketAddress server, Workload workload, Duration duration, Long reconnectEvery, long closeTimeoutNanos) {
        this.server = server;
        this.workload = workload;
        this.duration = duration;
        this.linesPerConnection = reconnectEvery == null ? Long.MAX_VALUE : reconnectEvery;
        this.closeTimeoutNanos = closeTimeoutNanos;
    }

    /** Lines written so far by all clients; any thread, for progress. */
    long linesSentSoFar() {
        return linesSent.get();
    }

    Result run() throws InterruptedException {
        int clients = workload.clients();
        List<SocketChannel> channels = new ArrayList<>();
        try {
            for (int c = 0; c < clients; c++) {
                channels.add(SocketChannel.open(server));
            }
        } catch (IOException e) {
            closeAll(channels);
            return new Result(new long[clients], 0, 0, 0,
                    List.of("cannot connect to " + LoadGenerator.describe(server) + ": " + e.getMessage()));
        }
        CloseWatcher watcher;
        try {
            watcher = CloseWatcher.open(clients, closeTimeoutNanos);
        } catch (IOException e) {
            closeAll(channels);
            return new Result(new long[clients], 0, 0, 0, List.of("cannot watch connections: " + e.getMessage()));
        }
        long[] sent = new long[clients];
        long[] connections = new long[clients];
        String[] failed = new String[clients];
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[clients];
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads[c] = new Thread(() -> {
                try {
                    go.await();
                    sent[client] = send(channels.get(client), workload.payload(client), watcher, connections, client);
                } catch (ReconnectFailed e) {
                    boolean toldAlready = isTooManyOpenFiles(e.getCause()) && toldTooManyOpenFiles.getAndSet(true);
                    failed[client] = abandoned || toldAlready ? null : "client " + (client + 1) + ": " + e.getMessage();
                } catch (IOException e) {
                    failed[client] = abandoned ? null : "client " + (client + 1) + ": "
                            + (linesPerConnection == Long.MAX_VALUE ? "" : "connection " + connections[client] + ": ")
                            + e.getMessage() + CLOSED_BY_SERVER;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    failed[client] = "client " + (client + 1) + " failed, please report it: " + e;
                } finally {
                    watcher.clientDone();
                }
            }, "load-client-" + (c + 1));
            threads[c].start();
        }
        String watchFailed = null;
        long start = System.nanoTime();
        long end = start;
        try {
            boolean allClosed = false;
            try {
                go.countDown();
                end = watcher.awaitClosed();
                allClosed = true;
            } catch (CloseWatcher.Stalled e) {
                watchFailed = e.getMessage();
            } catch (IOException e) {
                watchFailed = "cannot watch connections: " + e.getMessage();
            } finally {
                if (!allClosed) {
                    abandon(threads); // they may be stuck on a server that stopped closing, or the run was interrupted
                }
            }
            for (Thread thread : threads) {
                thread.join();
            }
        } finally {
            watcher.close(); // after the clients: none can hand it a connection any more
            closeAll(channels);
        }
        List<String> failures = new ArrayList<>(); // in the order they happened: the clients', then the watcher's
        for (String f : failed) {
            if (f != null) {
                failures.add(f);
            }
        }
        if (watchFailed != null) {
            failures.add(watchFailed);
        }
        if (watcher.resets() > 0) { // what a reset connection held was not all read: a lost connection
            failures.add(String.format(Locale.ROOT, "the server reset %d of the %d connections rather than close them "
                    + "after reading them to their end: too many clients, or it stopped", watcher.resets(), watcher.watched()));
        }
        long opened = 0;
        for (long n : connections) {
            opened += n;
        }
        return new Result(sent, opened, start, end, failures);
    }

    /** Stops every client: an interrupt closes the channel it is blocked on, and it says nothing of it. */
    private void abandon(Thread[] threads) {
        abandoned = true;
        for (Thread thread : threads) {
            thread.interrupt();
        }
    }

    /**
     * Writes the payload (repeatedly, with a duration) over {@code first} and, with churn, over
     * a new connection every {@code linesPerConnection} lines, handing each to {@code watcher}
     * once written. {@code connections[client]} counts the connections used.
     *
     * @throws ReconnectFailed if a new connection cannot be opened
     * @throws IOException if a write fails: the server closed the connection
     */
    private long send(SocketChannel first, ByteBuffer payload, CloseWatcher watcher, long[] connections, int client)
            throws IOException {
        long start = System.nanoTime();
        long durationNanos = duration == null ? Long.MAX_VALUE : duration.toNanos();
        int chunkBytes = CHUNK_LINES * Workload.LINE_BYTES;
        SocketChannel channel = first;
        connections[client] = 1;
        long lines = 0;
        long inConnection = 0;
        int pos = 0;
        try {
            while (System.nanoTime() - start < durationNanos) { // a difference: start + a long duration may overflow
                if (inConnection == linesPerConnection) {
                    handOver(channel, watcher);
                    channel = null;
                    try {
                        channel = SocketChannel.open(server);
                    } catch (IOException e) {
                        throw new ReconnectFailed(connections[client] + 1, describeConnectFailure(e, watcher), e);
                    }
                    connections[client]++;
                    inConnection = 0;
                }
                // In lines first: without churn, linesPerConnection is Long.MAX_VALUE, too many bytes for a long.
                long connectionBytesLeft = Math.min(linesPerConnection - inConnection, Workload.MAX_LINES_PER_CLIENT)
                        * Workload.LINE_BYTES;
                int end = (int) Math.min(Math.min(pos + chunkBytes, payload.capacity()), pos + connectionBytesLeft);
                payload.limit(end).position(pos);
                while (payload.hasRemaining()) {
                    channel.write(payload);
                }
                int chunkLines = (end - pos) / Workload.LINE_BYTES;
                lines += chunkLines;
                inConnection += chunkLines;
                linesSent.addAndGet(chunkLines);
                pos = end;
                if (pos == payload.capacity()) {
                    if (duration == null) {
                        break;
                    }
                    pos = 0;
                }
            }
            handOver(channel, watcher);
            channel = null;
            return lines;
        } finally {
            if (channel != null) {
                channel.close(); // failed before its hand-over: the watcher never saw it
            }
        }
    }

    /** Half-closes {@code channel}, which the server then reads to its end, and gives it to the watcher. */
    private static void handOver(SocketChannel channel, CloseWatcher watcher) throws IOException {
        channel.shutdownOutput();
        watcher.watch(channel);
    }

    /**
     * Why a connection could not be opened. Out of file descriptors, the JDK's "Too many open
     * files" hides the cause, which is usually the run's own: a descriptor for each connection
     * the server has not closed yet. (Not the limit itself: the JDK reads it through a library
     * that it would need a descriptor to load.)
     */
    private static String describeConnectFailure(IOException e, CloseWatcher watcher) {
        if (!isTooManyOpenFiles(e)) {
            return e.getMessage();
        }
        return String.format(Locale.ROOT, "too many open files, %d of them connections still waiting for the server "
                + "to close them; raise ulimit -n, or use fewer --clients or a larger --reconnect-every", watcher.openNow());
    }

    private static boolean isTooManyOpenFiles(Throwable e) {
        return e != null && e.getMessage() != null && e.getMessage().contains(TOO_MANY_OPEN_FILES);
    }

    /** Opens a connection, sends {@code terminate}, and waits until the server closes it. */
    static void sendTerminate(InetSocketAddress server) throws IOException {
        try (SocketChannel channel = SocketChannel.open(server)) {
            channel.write(ByteBuffer.wrap(("terminate" + System.lineSeparator()).getBytes(StandardCharsets.US_ASCII)));
            channel.shutdownOutput();
            ByteBuffer sink = ByteBuffer.allocate(64);
            try {
                while (channel.read(sink) >= 0) {
                    sink.clear();
                }
            } catch (IOException e) {
                // A reset is the server going away, which is what terminate asked for.
            }
        }
    }

    private static void closeAll(List<SocketChannel> channels) {
        for (SocketChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing after the run: the connection has nothing more to give.
            }
        }
    }
}
