package dev.numbers;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.function.Consumer;

/**
 * One client slot: reads a connection and stores its numbers. This is the hot path.
 *
 * <p>Each session is run by one client thread at a time, serving one connection after another;
 * its buffers are allocated once, at startup, so a connection costs no allocation. Per read:
 * <ol>
 *   <li>one blocking read of up to {@link #READ_BUFFER_BYTES} into {@code in}, after the partial
 *       line left over from the previous read;</li>
 *   <li>{@link LineDecoder#decodeNumbers} turns every whole number line into an int;</li>
 *   <li>{@link SeenNumbers#addAll} marks the batch and says which numbers are new to the run;
 *       {@link LogFormat} copies their lines into {@code out};</li>
 *   <li>{@code out} goes to the log in one {@link NumberLog#store}, and the counters are added
 *       once, before the next read: what the server has read is in the OS before it reads more;</li>
 *   <li>what stopped the decoding decides the rest: a partial line waits for the next read,
 *       {@code terminate} shuts the server down, anything else closes the connection.</li>
 * </ol>
 */
final class ClientSession {

    /**
     * Bytes per read: 26,214 lines. Measured end to end, interleaved: 256 KiB did the
     * unique-heavy workload about 25% faster than 64 KiB (fewer batches to lock and write) and
     * no slower than 1 MiB, which costs 10 MB more RSS; duplicate-heavy was the same for all.
     */
    static final int READ_BUFFER_BYTES = 256 * 1024;

    private final int slot;
    private final Consumer<String> onTerminate;
    private final Consumer<ClientSession> onFree;
    private final LineDecoder decoder;
    private final SeenNumbers seen;
    private final NumberLog log;
    private final LogFormat format;
    private final Stats stats;
    private final BatchesInFlight inFlight;

    private final ByteBuffer in = LineDecoder.allocateBuffer(READ_BUFFER_BYTES);
    private final ByteBuffer out = LineDecoder.allocateBuffer(READ_BUFFER_BYTES);
    private final int[] numbers;
    private final boolean[] isNew;

    /**
     * The connection being served (a blocking {@code SocketChannel}; tests use other channels),
     * or null; written by the client thread, closed by any.
     */
    private volatile ByteChannel channel;
    /** Its peer address, for log lines. */
    private volatile String remote;
    /** {@link System#nanoTime} when the thread began waiting in read, or 0: for the idle timeout. */
    private volatile long readingSinceNanos;

    /**
     * @param onTerminate called with a reason when the client sends {@code terminate}: the
     *     server's shutdown request
     * @param onFree called once per connection, when it has ended and before it is closed: the
     *     server takes the slot back
     */
    ClientSession(int slot, Consumer<String> onTerminate, Consumer<ClientSession> onFree, LineDecoder decoder,
                  SeenNumbers seen, NumberLog log, LogFormat format, Stats stats, BatchesInFlight inFlight) {
        this.slot = slot;
        this.onTerminate = onTerminate;
        this.onFree = onFree;
        this.decoder = decoder;
        this.seen = seen;
        this.log = log;
        this.format = format;
        this.stats = stats;
        this.inFlight = inFlight;
        this.numbers = new int[READ_BUFFER_BYTES / decoder.lineBytes() + 1];
        this.isNew = new boolean[numbers.length];
    }

    /** How a connection ended, for the log line. */
    private enum End { CLIENT_CLOSED, INVALID_INPUT, TERMINATE, DISCONNECTED, RESET }

    /**
     * Hands the session its next connection. Called by the acceptor before the session is
     * scheduled, so that a shutdown that follows always finds the connection to close.
     */
    void attach(ByteChannel connection, String peer) {
        remote = peer;
        channel = connection;
    }

    /**
     * Serves the attached connection until it ends, frees the slot, then closes the connection.
     * Runs on a client thread; every way a connection can end is logged.
     */
    void serve() {
        ByteChannel connection = channel;
        String remote = this.remote;
        long received = 0;
        End end = End.RESET;
        try {
            in.clear().limit(READ_BUFFER_BYTES);
            while (true) {
                readingSinceNanos = System.nanoTime();
                int read = connection.read(in);
                readingSinceNanos = 0;
                if (read < 0) {
                    end = in.position() == 0 ? End.CLIENT_CLOSED : End.INVALID_INPUT; // final line lacks its newline
                    break;
                }
                int length = in.position();
                int count = decoder.decodeNumbers(in, 0, length, numbers);
                int consumed = count * decoder.lineBytes();
                LineDecoder.Stop stop = decoder.classify(in, consumed, length);
                if (stop == LineDecoder.Stop.TERMINATE) {
                    onTerminate.accept("terminate from " + remote); // first: a failing disk may hold store()
                }
                if (count > 0) {
                    store(count);
                    received += count;
                }
                if (stop != LineDecoder.Stop.NEED_MORE) {
                    end = stop == LineDecoder.Stop.TERMINATE ? End.TERMINATE : End.INVALID_INPUT;
                    break;
                }
                in.limit(length).position(consumed);
                in.compact().limit(READ_BUFFER_BYTES);
            }
        } catch (ClosedChannelException e) {
            end = End.DISCONNECTED; // closed by shutdown or the idle timeout, which log why
        } catch (IOException e) {
            Log.info("client " + remote + " connection failed: " + Log.describe(e));
        } finally {
            readingSinceNanos = 0;
            channel = null;
            inFlight.awaitOthers(slot);
            if (end == End.INVALID_INPUT) {
                stats.invalidInputClosed();
            }
            // Free the slot before the close: a client that sees the close may connect again at
            // once and must find it free. From here on, only locals: a new connection may be
            // attached to this session while this thread still closes the old one.
            onFree.accept(this);
            closeQuietly(connection);
        }
        logEnd(end, remote, received);
    }

    /**
     * Marks, formats and writes the {@code count} numbers decoded from the start of {@code in}.
     * The batch is "in flight" from its first mark to the end of its write, so that a client
     * that sent some of the same numbers is not told they are stored before they are.
     */
    private void store(int count) {
        int lineBytes = decoder.lineBytes();
        int separatorBytes = lineBytes - LineDecoder.DIGITS_PER_LINE;
        int outPos = 0;
        int fresh;
        long lost = 0;
        inFlight.begin(slot);
        try {
            fresh = seen.addAll(numbers, 0, count, isNew);
            for (int i = 0; i < count; i++) {
                if (isNew[i]) {
                    outPos = format.append(in, i * lineBytes, separatorBytes, out, outPos);
                }
            }
            if (outPos > 0) {
                out.limit(outPos).position(0);
                lost = log.store(out); // non-zero only at shutdown with the disk failing
                out.clear();
            }
        } finally {
            inFlight.end(slot);
        }
        stats.recordBatch((int) (fresh - lost), count - fresh); // counted once stored
    }

    /** Closes the connection being served, if any, waking the client thread. Any thread. */
    void disconnect() {
        ByteChannel current = channel;
        if (current != null) {
            closeQuietly(current);
        }
    }

    /**
     * Closes the connection if its client has sent nothing for {@code timeoutNanos}: the thread
     * has been waiting in read that long. Called by the idle watchdog.
     */
    void disconnectIfIdle(long nowNanos, long timeoutNanos) {
        ByteChannel current = channel;
        long since = readingSinceNanos;
        if (current != null && since != 0 && nowNanos - since >= timeoutNanos) {
            Log.info("client " + remote + " sent nothing for " + (nowNanos - since) / 1_000_000 + " ms: disconnecting it");
            closeQuietly(current);
        }
    }

    private void logEnd(End end, String remote, long received) {
        switch (end) {
            case INVALID_INPUT -> Log.info("client " + remote + " closed for invalid input after " + received + " numbers");
            case TERMINATE -> Log.info("client " + remote + " sent terminate after " + received + " numbers");
            case DISCONNECTED -> Log.info("client " + remote + " disconnected by the server after " + received + " numbers");
            case CLIENT_CLOSED, RESET -> Log.info("client " + remote + " ended after " + received + " numbers");
        }
    }

    private static void closeQuietly(ByteChannel connection) {
        try {
            connection.close();
        } catch (IOException ignored) {
            // Closing a socket only fails if it is already broken; there is nothing left to save.
        }
    }
}
