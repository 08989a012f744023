package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;

/**
 * One client slot: reads a connection and stores its numbers. This is the hot path.
 *
 * <p>Each session is run by one client thread at a time, serving one connection after another;
 * its {@link SessionBuffers} are allocated once, at startup, so a connection costs no
 * allocation. Per read:
 * <ol>
 *   <li>one blocking read of up to {@link SessionBuffers#READ_BUFFER_BYTES} into {@code in},
 *       after the partial line left over from the previous read;</li>
 *   <li>{@link LineDecoder#decodeNumbers} turns every whole number line into an int;</li>
 *   <li>{@link #store}, once per batch: {@link SeenNumbers#addAll} marks them, {@link #appendNew}
 *       copies the lines of the new ones into {@code out}, {@link NumberLog#store} writes those,
 *       {@link Stats#recordBatch} counts the batch, all before the next read: what the server has
 *       read is in the operating system before it reads more;</li>
 *   <li>what stopped the decoding decides the rest: a partial line waits for the next read,
 *       {@code terminate} shuts the server down, anything else closes the connection.</li>
 * </ol>
 * Each number is logged exactly once across all sessions, and counted only once it is in the
 * log. No allocation, lock or {@code String} per number; the log's lock once per batch.
 */
final class ClientSession {

    /** What a session tells the server. */
    interface Events {
        /** The client sent {@code terminate}: the server must shut down. */
        void terminate(String reason);

        /** The connection has ended and is about to be closed: the slot is free again. */
        void ended(ClientSession session);
    }

    /** What every session shares: where the batches go and how they are counted. */
    record Shared(SeenNumbers seen, NumberLog log, LogFormat format, Stats stats, BatchesInFlight inFlight) {
    }

    /** How a connection ended, for the diagnostics line. */
    private enum End { CLIENT_CLOSED, INVALID_INPUT, TERMINATE, DISCONNECTED, FAILED }

    /** Eight ASCII zeros. */
    private static final long ASCII_ZEROS = 0x3030_3030_3030_3030L;

    private final int slot;
    private final LineDecoder decoder;
    private final SeenNumbers seen;
    private final NumberLog log;
    private final boolean stripped;
    private final Stats stats;
    private final BatchesInFlight inFlight;
    private final Events events;
    private final SessionBuffers buffers;

    /**
     * The connection being served (a blocking {@code SocketChannel}; tests use other channels),
     * or null; written by the client thread, closed by any.
     */
    private volatile ByteChannel channel;
    /** Its peer address, for diagnostics. */
    private volatile String remote;
    /**
     * Counts the reads of this slot's client thread, twice each: odd while the thread waits in
     * a read, even while it works (or has no connection). The idle watchdog reads it: a value
     * that stays odd and the same has been one read all along.
     */
    private volatile long readSequence;

    ClientSession(int slot, LineDecoder decoder, Shared shared, SessionBuffers buffers, Events events) {
        this.slot = slot;
        this.decoder = decoder;
        this.seen = shared.seen();
        this.log = shared.log();
        this.stripped = shared.format() == LogFormat.STRIPPED;
        this.stats = shared.stats();
        this.inFlight = shared.inFlight();
        this.buffers = buffers;
        this.events = events;
    }

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
     * Runs on a client thread; every way a connection can end is said on stderr.
     */
    void serve() {
        ByteChannel connection = channel;
        String peer = remote;
        ByteBuffer in = buffers.in;
        int lineBytes = decoder.lineBytes();
        long received = 0;
        End end = End.FAILED;
        try {
            in.clear().limit(SessionBuffers.READ_BUFFER_BYTES);
            while (true) {
                readSequence++; // odd: waiting for the client (only this thread writes it)
                int read = connection.read(in);
                readSequence++;
                if (read < 0) {
                    end = in.position() == 0 ? End.CLIENT_CLOSED : End.INVALID_INPUT; // final line lacks its newline
                    break;
                }
                int length = in.position();
                int count = decoder.decodeNumbers(in, 0, length, buffers.numbers);
                int consumed = count * lineBytes;
                LineDecoder.Stop stop = decoder.classify(in, consumed, length);
                if (stop == LineDecoder.Stop.TERMINATE) {
                    events.terminate("terminate from " + peer); // first: a failing disk may hold store()
                }
                if (count > 0) {
                    store(count, lineBytes);
                    received += count;
                }
                if (stop != LineDecoder.Stop.NEED_MORE) {
                    end = stop == LineDecoder.Stop.TERMINATE ? End.TERMINATE : End.INVALID_INPUT;
                    break;
                }
                in.limit(length).position(consumed);
                in.compact().limit(SessionBuffers.READ_BUFFER_BYTES);
            }
        } catch (ClosedChannelException e) {
            end = End.DISCONNECTED; // closed by shutdown or the idle timeout, which say why
        } catch (IOException e) {
            Diagnostics.client("client " + peer + " connection failed: " + Diagnostics.describe(e));
        } finally {
            if ((readSequence & 1) != 0) {
                readSequence++; // the read ended by an exception: no longer waiting
            }
            channel = null;
            awaitOtherBatches();
            if (end == End.INVALID_INPUT) {
                stats.invalidInputClosed();
            }
            // Free the slot before the close: a client that sees the close may connect again at
            // once and must find it free. From here on, only locals: a new connection may be
            // attached to this session while this thread still closes the old one.
            events.ended(this);
            closeQuietly(connection);
        }
        logEnd(end, peer, received);
    }

    /**
     * Stores the {@code count} numbers of {@code buffers.numbers}, decoded from the lines at the
     * start of {@code buffers.in}. The batch is in flight (see {@link BatchesInFlight}) from before
     * its first mark to the end of its write, so that a client that sent some of the same numbers
     * is not told they are stored before they are.
     */
    private void store(int count, int lineBytes) {
        ByteBuffer out = buffers.out;
        long lost = 0;
        int fresh;
        inFlight.begin(slot); // before the first mark: see BatchesInFlight, "Memory ordering"
        try {
            fresh = seen.addAll(buffers.numbers, 0, count, buffers.isNew);
            int outBytes = fresh == 0 ? 0 : appendNew(buffers.in, 0, lineBytes, buffers.isNew, count, out, stripped);
            if (outBytes > 0) {
                out.limit(outBytes).position(0);
                lost = log.store(out); // non-zero only at shutdown with the disk failing
                out.clear();
            }
        } finally {
            inFlight.end(slot);
        }
        stats.recordBatch((int) (fresh - lost), count - fresh);
    }

    /**
     * Appends the log lines of a batch's new numbers to {@code out} from position 0: for each
     * {@code i < count} with {@code isNew[i]}, the line at {@code in[from + i * lineBytes]}. The
     * digits are copied from the input, not printed from the int: two stores a line, no division.
     *
     * @return the bytes appended
     */
    static int appendNew(ByteBuffer in, int from, int lineBytes, boolean[] isNew, int count, ByteBuffer out, boolean stripped) {
        int separatorBytes = lineBytes - LineDecoder.DIGITS_PER_LINE;
        int outPos = 0;
        for (int i = 0; i < count; i++) {
            if (isNew[i]) {
                outPos = appendLine(in, from + i * lineBytes, separatorBytes, out, outPos, stripped);
            }
        }
        return outPos;
    }

    /**
     * Appends the log line of the valid number line at {@code in[linePos]} to {@code out} at
     * {@code outPos}, its leading zeros stripped or not (padded). Both buffers are little-endian;
     * {@code out} needs {@link LineDecoder#SLACK_BYTES} past the last line, as the stores overshoot.
     *
     * <pre>
     *   in:   '0' '0' '7' '0' '0' '7' '0' '0' | '9' '\n' ...     first8 (long) | tail (int)
     *   leading zeros lz = trailing zero bytes of (first8 - "00000000") = 2 (at most 8)
     *   out:  first8 >>> 8*lz    -> '7' '0' '0' '7' '0' '0' 0 0  (long store at outPos)
     *         tail               -> at outPos + 8 - lz: '9' '\n' ... (int store)
     *   line: "7007009\n", length 9 - lz + separator
     * </pre>
     * With lz = 8 the shift distance is 64, which Java reduces to 0; the tail store then lands
     * on the first byte and overwrites it, so {@code 000000000} still becomes {@code "0\n"}.
     *
     * @return the position after the appended line
     */
    static int appendLine(ByteBuffer in, int linePos, int separatorBytes, ByteBuffer out, int outPos, boolean stripped) {
        long first8 = in.getLong(linePos);
        int tail = in.getInt(linePos + 8);
        int leadingZeros = stripped ? Long.numberOfTrailingZeros(first8 - ASCII_ZEROS) >>> 3 : 0;
        out.putLong(outPos, first8 >>> (leadingZeros << 3));
        int tailPos = outPos + 8 - leadingZeros;
        out.putInt(tailPos, tail);
        return tailPos + 1 + separatorBytes;
    }

    /**
     * Waits until the batches other clients have in flight now are written: before a connection
     * closes, so that its client never sees the close before a number it sent (and found already
     * seen) is in the log.
     */
    private void awaitOtherBatches() {
        try {
            inFlight.awaitOthers(slot);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // only a forced stop interrupts; then close at once
        }
    }

    /** Closes the connection being served, if any, waking the client thread. Any thread. */
    void disconnect() {
        ByteChannel current = channel;
        if (current != null) {
            closeQuietly(current);
        }
    }

    /** The read count, odd while the client thread waits in a read (see {@link #readSequence}). */
    long readSequence() {
        return readSequence;
    }

    /**
     * Closes the connection if the client thread is still in the read that {@code sequence}
     * numbers, which the idle watchdog has seen go without a byte for {@code quietNanos}.
     */
    void disconnectIfStillWaiting(long sequence, long quietNanos) {
        ByteChannel current = channel;
        if (current != null && readSequence == sequence) {
            Diagnostics.client("client " + remote + " sent nothing for " + quietNanos / 1_000_000 + " ms: disconnecting it");
            closeQuietly(current);
        }
    }

    private static void logEnd(End end, String peer, long received) {
        switch (end) {
            case INVALID_INPUT -> Diagnostics.client("client " + peer + " closed for invalid input after " + received + " numbers");
            case TERMINATE -> Diagnostics.info("client " + peer + " sent terminate after " + received + " numbers");
            case DISCONNECTED -> Diagnostics.client("client " + peer + " disconnected by the server after " + received + " numbers");
            case CLIENT_CLOSED, FAILED -> Diagnostics.client("client " + peer + " ended after " + received + " numbers");
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
