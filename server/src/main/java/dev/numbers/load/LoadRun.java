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
 * Sends a {@link Workload} to a server, one thread and connection per client, and measures it
 * end to end: the clock starts when every client is connected and stops when the server has
 * closed every connection after reading its end of stream. For numbers-server that means every
 * number sent is in the log (the server writes each batch before it reads more), so the rate is
 * "into numbers.log", not "into the socket".
 */
final class LoadRun {

    /** Lines per write: 1 MB, so progress moves and a duration is checked often enough. */
    private static final int CHUNK_LINES = 100_000;

    /** What a run did. {@code linesSent[c]} counts the lines client c wrote (whole lines only). */
    record Result(long[] linesSent, long elapsedNanos, List<String> failures) {
        long totalLines() {
            long total = 0;
            for (long lines : linesSent) {
                total += lines;
            }
            return total;
        }
    }

    private final InetSocketAddress server;
    private final Workload workload;
    private final Duration duration;
    private final AtomicLong linesSent = new AtomicLong();

    /**
     * @param duration null to send each payload once; else repeat it until this much time passed
     */
    LoadRun(InetSocketAddress server, Workload workload, Duration duration) {
        this.server = server;
        this.workload = workload;
        this.duration = duration;
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
            return new Result(new long[clients], 0, List.of("cannot connect to " + LoadGenerator.describe(server) + ": " + e.getMessage()));
        }
        long[] sent = new long[clients];
        String[] failed = new String[clients];
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[clients];
        for (int c = 0; c < clients; c++) {
            int client = c;
            threads[c] = new Thread(() -> {
                try {
                    go.await();
                    sent[client] = send(channels.get(client), workload.payload(client));
                } catch (IOException e) {
                    failed[client] = "client " + (client + 1) + ": " + e.getMessage()
                            + " (the server closed the connection: too many clients, or it stopped)";
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
        long elapsed = System.nanoTime() - start;
        closeAll(channels);
        for (String f : failed) {
            if (f != null) {
                failures.add(f);
            }
        }
        return new Result(sent, elapsed, failures);
    }

    /** Writes the payload (repeatedly, with a duration), half-closes, waits for the server's close. */
    private long send(SocketChannel channel, ByteBuffer payload) throws IOException {
        long start = System.nanoTime();
        long durationNanos = duration == null ? Long.MAX_VALUE : duration.toNanos();
        int chunkBytes = CHUNK_LINES * Workload.LINE_BYTES;
        long lines = 0;
        int pos = 0;
        while (System.nanoTime() - start < durationNanos) { // a difference: start + a long duration may overflow
            int end = Math.min(pos + chunkBytes, payload.capacity());
            payload.limit(end).position(pos);
            while (payload.hasRemaining()) {
                channel.write(payload);
            }
            int chunkLines = (end - pos) / Workload.LINE_BYTES;
            lines += chunkLines;
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
