package dev.numbers.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The end of a load run's clock: waits for the server to close every connection the clients
 * have written, so that no client has to. A client writes a connection to its end, half-closes
 * it and hands it over ({@link #watch}), then goes straight on, to its next connection with
 * churn; when it has no more it says so ({@link #clientDone}). The server closes a connection
 * once it has read it to its end (numbers-server: once every number of it is in the log), so
 * when every client is done and every connection handed over has been closed, every number sent
 * has been taken: {@link #awaitClosed} returns that moment.
 *
 * <p>{@link #awaitClosed} runs on the caller's thread (the run's), the one thread that watches
 * every connection: a {@link Selector} over non-blocking channels, which reads and discards
 * (numbers-server sends nothing, nor does the sink) until the server's end of stream or a reset,
 * then closes the channel. {@link #watch} and {@link #clientDone} are for the clients' threads:
 * they queue and wake the selector, never touching it otherwise. Allocates one read buffer, and
 * per connection its queue node and selection key. Holds a file descriptor for each connection
 * the server has not closed yet, thousands at once against a slow server.
 */
final class CloseWatcher implements AutoCloseable {

    /** Reads only to find the end of stream; a server that talks back is read in pieces this size. */
    private static final int DISCARD_BYTES = 4 * 1024;

    /** The server stopped closing connections: the message says how many it never closed. */
    static final class Stalled extends Exception {
        private static final long serialVersionUID = 1L;

        Stalled(String message) {
            super(message);
        }
    }

    private final Selector selector;
    private final long timeoutNanos;
    private final Queue<SocketChannel> handedOver = new ConcurrentLinkedQueue<>();
    private final AtomicInteger clientsLeft;
    private final AtomicLong watched = new AtomicLong();
    private final ByteBuffer discard = ByteBuffer.allocateDirect(DISCARD_BYTES);
    // The watching thread's alone, but closed, which a client reads for its failure's message.
    private long open;
    private volatile long closed;
    private long resets;
    private long lastChangeNanos;

    private CloseWatcher(Selector selector, int clients, long timeoutNanos) {
        this.selector = selector;
        this.clientsLeft = new AtomicInteger(clients);
        this.timeoutNanos = timeoutNanos;
    }

    /**
     * @param clients      how many {@link #clientDone} calls end the wait
     * @param timeoutNanos how long connections may stay open with none closed (and none handed
     *                     over) before {@link #awaitClosed} gives up on them
     * @throws IOException if no selector can be opened
     */
    static CloseWatcher open(int clients, long timeoutNanos) throws IOException {
        return new CloseWatcher(Selector.open(), clients, timeoutNanos);
    }

    /**
     * Takes over {@code channel}, connected and half-closed by the caller: from now on this
     * closes it. Any thread.
     *
     * @throws IOException if the channel cannot be made non-blocking (it is closed, say)
     */
    void watch(SocketChannel channel) throws IOException {
        channel.configureBlocking(false);
        watched.incrementAndGet();
        handedOver.add(channel);
        selector.wakeup(); // cheap when it is already woken: the JDK signals a select once, however many call this
    }

    /** A client has handed over its last connection, or failed. Any thread, once per client. */
    void clientDone() {
        if (clientsLeft.decrementAndGet() == 0) {
            selector.wakeup();
        }
    }

    /** Connections handed over so far. Any thread. */
    long watched() {
        return watched.get();
    }

    /** Connections the server reset rather than closed; after {@link #awaitClosed}, on its thread. */
    long resets() {
        return resets;
    }

    /** Connections handed over and not yet seen closed; any thread, for a failure's message. */
    long openNow() {
        return watched.get() - closed;
    }

    /**
     * Watches until every client is done and the server has closed every connection they handed
     * over; returns that moment ({@link System#nanoTime}), the end of the clock.
     *
     * @throws Stalled if connections stay open for the timeout with none closed and none handed over
     * @throws IOException if the selector fails
     * @throws InterruptedException if the calling thread is interrupted; connections stay open
     *         until {@link #close}
     */
    long awaitClosed() throws Stalled, IOException, InterruptedException {
        lastChangeNanos = System.nanoTime();
        while (true) {
            // Before the queue: a client hands over its last connection before it says it is done.
            boolean clientsDone = clientsLeft.get() == 0;
            for (SocketChannel channel; (channel = handedOver.poll()) != null; ) {
                channel.register(selector, SelectionKey.OP_READ);
                open++;
                lastChangeNanos = System.nanoTime();
            }
            if (clientsDone && open == 0) {
                return System.nanoTime();
            }
            long quiet = System.nanoTime() - lastChangeNanos;
            if (open > 0 && quiet >= timeoutNanos) {
                throw new Stalled(String.format(Locale.ROOT, "%d connection%s never closed: the server closed %d of the %d "
                        + "connections written, then none for %.1f s", open, open == 1 ? "" : "s", closed, closed + open,
                        timeoutNanos / 1e9));
            }
            long waitMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos - quiet) + 1); // 0 would wait for ever
            selector.select(this::readOrClose, waitMs);
            if (Thread.interrupted()) {
                throw new InterruptedException("waiting for the server to close " + open + " connections");
            }
        }
    }

    /** Reads what the server sent, and closes the channel at its end of stream or reset. */
    private void readOrClose(SelectionKey key) {
        SocketChannel channel = (SocketChannel) key.channel();
        try {
            int read;
            do {
                read = channel.read(discard.clear());
            } while (read > 0);
            if (read == 0) {
                return; // open still: more to read later
            }
        } catch (IOException reset) {
            // A reset ends the wait for a connection as a close does; the run counts them, since
            // a server resets only a connection it did not read to its end.
            resets++;
        }
        closeQuietly(channel); // cancels the key; the selector releases the descriptor on its next select
        open--;
        closed++; // one writer: this thread
        lastChangeNanos = System.nanoTime();
    }

    /** Closes the selector and every connection still open or queued; on the watching thread, after the wait. */
    @Override
    public void close() {
        for (SelectionKey key : selector.keys()) {
            closeQuietly(key.channel());
        }
        for (SocketChannel channel; (channel = handedOver.poll()) != null; ) {
            closeQuietly(channel);
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // Its channels are closed above; a selector that fails to close has nothing left to give.
        }
    }

    private static void closeQuietly(Channel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing a connection the server is done with, or a run that failed: nothing more to give.
        }
    }
}
