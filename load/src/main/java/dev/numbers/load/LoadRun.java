package dev.numbers.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends a {@link Workload} to a server, one thread per client, and measures it end to end: the
 * clock starts when every client is connected and stops when the server has closed every
 * client's last connection after reading its end of stream. For numbers-server that means every
 * number sent is in the log (the server writes each batch before it reads more), so the rate is
 * "into numbers.log", not "into the socket".
 *
 * <p>By default each client has one connection. With {@code reconnectEvery} (churn) a client
 * cuts its payload into connections of that many numbers: each is half-closed and closed as soon
 * as it is written, without waiting for the server, as a naive client in a loop does, and only
 * the last is waited for; the caller then ends the clock on the log ({@link LogWait}), since a
 * connection not waited for may still be unread. Allocates a 64-byte buffer per client, nothing
 * per write or per connection but the connection itself.
 */
final class LoadRun {

    /** Lines per write: 1 MB, so progress moves and a duration is checked often enough. */
    private static final int CHUNK_LINES = 100_000;
    /** Why a client's write failed, said after the error. */
    private static final String CLOSED_BY_SERVER = " (the server closed the connection: too many clients, or it stopped)";

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

        /** The same run with the clock stopped at {@code end} instead: when the log was complete. */
        Result endingAt(long end) {
            return new Result(linesSent, connections, startNanos, end, failures);
        }
    }

    /** A client could not open its next connection; the message says which and why. */
    private static final class ReconnectFailed extends IOException {
        private static final long serialVersionUID = 1L;

        ReconnectFailed(long connection, IOException cause) {
            super("cannot open connection " + connection + ": " + cause.getMessage(), cause);
        }
    }

    private final InetSocketAddress server;
    private final Workload workload;
    private final Duration duration;
    private final long linesPerConnection;
    private final AtomicLong linesSent = new AtomicLong();

    /**
     * @param duration       null to send each payload once; else repeat it until this much time passed
     * @param reconnectEvery null for one connection per client; else the lines of each connection
     */
    LoadRun(InetSocketAddress server, Workload workload, Duration duration, Long reconnectEvery) {
        this.server = server;
        this.workload = workload;
        this.duration = duration;
        this.linesPerConnection = reconnectEvery == null ? Long.MAX_VALUE : reconnectEvery;
    }

    /** Lines written so far by all clients; any thread, for progress. */
    long linesSentSoFar() {
        return linesSent.get();
    }

    Result run() throws InterruptedException {
        int clients = workload.clients();
        List<SocketChannel> channels = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        try {
            for (int c = 0; c < clients; c++) {
                channels.add(SocketChannel.open(server));
            }
        } catch (IOException e) {
            closeAll(channels);
            return new Result(new long[clients], 0, 0, 0,
                    List.of("cannot connect to " + LoadGenerator.describe(server) + ": " + e.getMessage()));
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
                    sent[client] = send(channels.get(client), workload.payload(client), connections, client);
                } catch (ReconnectFailed e) {
                    failed[client] = "client " + (client + 1) + ": " + e.getMessage();
                } catch (IOException e) {
                    failed[client] = "client " + (client + 1) + ": "
                            + (linesPerConnection == Long.MAX_VALUE ? "" : "connection " + connections[client] + ": ")
                            + e.getMessage() + CLOSED_BY_SERVER;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    failed[client] = "client " + (client + 1) + " failed, please report it: " + e;
                }
            }, "load-client-" + (c + 1));
            threads[c].start();
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        long end = System.nanoTime();
        closeAll(channels);
        for (String f : failed) {
            if (f != null) {
                failures.add(f);
            }
        }
        long opened = 0;
        for (long n : connections) {
            opened += n;
        }
        return new Result(sent, opened, start, end, failures);
    }

    /**
     * Writes the payload (repeatedly, with a duration) over {@code first} and, with churn, over
     * a new connection every {@code linesPerConnection} lines; half-closes the last connection
     * and waits for the server's close. {@code connections[client]} counts the connections used.
     */
    private long send(SocketChannel first, ByteBuffer payload, long[] connections, int client) throws IOException {
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
                    channel.shutdownOutput(); // the close below would end the stream too; this says it first
                    channel.close();          // unwaited: the kernel still delivers every byte written
                    try {
                        channel = SocketChannel.open(server);
                    } catch (IOException e) {
                        throw new ReconnectFailed(connections[client] + 1, e);
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
            channel.shutdownOutput();
            ByteBuffer sink = ByteBuffer.allocate(64);
            while (channel.read(sink) >= 0) {
                sink.clear(); // numbers-server sends nothing; a sink neither
            }
            return lines;
        } finally {
            if (channel != first) {
                channel.close(); // the first is closed with the others after the run
            }
        }
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
