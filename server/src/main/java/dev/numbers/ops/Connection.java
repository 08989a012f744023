package dev.numbers.ops;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * One side-port connection: its socket, the replies not yet written, the clocks its deadlines go
 * by, and its way out. A session calls {@link #send}, {@link #requestStarted},
 * {@link #requestCompleted} and {@link #finish}; the {@link SelectorLoop} does the I/O.
 *
 * <p>The way out never resets a client that may still read an answer: a finished connection writes
 * its last replies, shuts its output (the client sees the end of the stream), then reads and drops
 * what the client still sends until the client closes too, for at most {@link #LINGER_MS} and
 * {@link #LINGER_MAX_BYTES}. Closing a socket with unread input would send a reset instead, and
 * the client could lose the answer (a 431 to a request with 400 KB of headers).
 *
 * <p>The loop's thread only, except {@link #closeNow}, which any thread may call. Allocates only
 * when replies outgrow the output buffer.
 */
final class Connection {

    /** Output buffer to begin with: a command reply or a metrics page needs no more than one growth. */
    private static final int INITIAL_OUTPUT_BYTES = 512;
    /** Replies waiting for a client beyond which its input is not read until it takes them. */
    static final int MAX_PENDING_OUTPUT_BYTES = 64 * 1024;
    /** How long a finished connection waits for its client to close: enough to send a refused request. */
    static final long LINGER_MS = 2_000;
    /** How much a finished connection reads and drops before it closes anyway (and may reset). */
    static final long LINGER_MAX_BYTES = 1 << 20;

    /** What is overdue on a connection, for {@link #overdue}. */
    enum Overdue { NOTHING, IDLE, TOO_SLOW, OUTPUT_STUCK, LINGERED }

    private final SocketChannel channel;
    private final SelectionKey key;
    private Protocol.Session session;
    /** Replies not yet written, in write mode: {@code position()} is the byte count pending. */
    private ByteBuffer output = ByteBuffer.allocate(INITIAL_OUTPUT_BYTES);
    private long quietSinceNanos;
    private boolean requestUnderWay;
    private long requestStartedNanos;
    private long outputStuckSinceNanos;
    private boolean finishing;
    private boolean inputEnded;
    private boolean outputShut;
    private long lingerStartedNanos;
    private long discardedBytes;

    Connection(SocketChannel channel, SelectionKey key, long nowNanos) {
        this.channel = channel;
        this.key = key;
        this.quietSinceNanos = nowNanos;
    }

    void serve(Protocol.Session serving) {
        this.session = serving;
    }

    /** Queues {@code bytes} for the client; nothing once the connection is finishing. */
    void send(byte[] bytes) {
        if (finishing) {
            return;
        }
        if (output.position() == 0) {
            outputStuckSinceNanos = System.nanoTime();
        }
        if (output.remaining() < bytes.length) {
            ByteBuffer larger = ByteBuffer.allocate(Math.max(2 * output.capacity(), output.position() + bytes.length));
            output.flip();
            output = larger.put(output);
        }
        output.put(bytes);
    }

    /** The first byte of a request has arrived: its deadline runs (once per request). */
    void requestStarted(long nowNanos) {
        if (!requestUnderWay) {
            requestUnderWay = true;
            requestStartedNanos = nowNanos;
        }
    }

    /** A request is whole: the idle timer runs again, and this connection is not quiet. */
    void requestCompleted(long nowNanos) {
        requestUnderWay = false;
        quietSinceNanos = nowNanos;
    }

    /** No more requests: the replies queued are written, then the connection closes. */
    void finish() {
        finishing = true;
    }

    boolean finishing() {
        return finishing;
    }

    long quietSinceNanos() {
        return quietSinceNanos;
    }

    /**
     * Reads what has arrived into {@code scratch} and hands it to the session, or drops it once
     * finishing. At the end of the stream the session may answer a last request, and the
     * connection finishes.
     *
     * @throws IOException the client has gone (a reset)
     */
    void readable(ByteBuffer scratch, long nowNanos) throws IOException {
        scratch.clear();
        int read = channel.read(scratch);
        if (read < 0) {
            inputEnded = true;
            if (!finishing) {
                session.ended(nowNanos);
                finish();
            }
        } else if (finishing) {
            for (; read > 0 && discardedBytes <= LINGER_MAX_BYTES; read = channel.read(scratch)) {
                discardedBytes += read;
                scratch.clear();
            }
            inputEnded = read < 0;
        } else {
            scratch.flip();
            session.received(scratch, nowNanos);
        }
    }

    /**
     * After any event: writes what the socket takes, moves a finished connection towards its
     * close, and tells the selector what to wait for. Input is not read while more than
     * {@link #MAX_PENDING_OUTPUT_BYTES} of replies wait (a client that sends but does not read
     * stops itself).
     *
     * @return false once the connection is done and should be closed
     * @throws IOException the client has gone
     */
    boolean settle(long nowNanos) throws IOException {
        if (output.position() > 0) {
            output.flip();
            int written = channel.write(output);
            output.compact();
            if (written > 0) {
                outputStuckSinceNanos = nowNanos;
            }
            if (output.position() == 0 && output.capacity() > INITIAL_OUTPUT_BYTES) {
                output = ByteBuffer.allocate(INITIAL_OUTPUT_BYTES);
            }
        }
        if (finishing && output.position() == 0) {
            if (inputEnded || discardedBytes > LINGER_MAX_BYTES) {
                return false;
            }
            if (!outputShut) {
                channel.shutdownOutput();
                outputShut = true;
                lingerStartedNanos = nowNanos;
            }
        }
        int interest = 0;
        if (!inputEnded && (finishing || output.position() < MAX_PENDING_OUTPUT_BYTES)) {
            interest |= SelectionKey.OP_READ;
        }
        if (output.position() > 0) {
            interest |= SelectionKey.OP_WRITE;
        }
        key.interestOps(interest);
        return true;
    }

    /**
     * What is overdue at {@code nowNanos}: replies the client has taken none of for the request
     * deadline, a linger that has run out, a request not whole by its deadline, or idleness.
     */
    Overdue overdue(long nowNanos, SidePortLimits limits) {
        if (output.position() > 0 && nowNanos - outputStuckSinceNanos >= millis(limits.requestDeadlineMillis())) {
            return Overdue.OUTPUT_STUCK;
        }
        if (outputShut && nowNanos - lingerStartedNanos >= millis(LINGER_MS)) {
            return Overdue.LINGERED;
        }
        if (!finishing && requestUnderWay && nowNanos - requestStartedNanos >= millis(limits.requestDeadlineMillis())) {
            return Overdue.TOO_SLOW;
        }
        if (!finishing && !requestUnderWay && nowNanos - quietSinceNanos >= millis(limits.idleTimeoutMillis())) {
            return Overdue.IDLE;
        }
        return Overdue.NOTHING;
    }

    /** Nanoseconds from {@code nowNanos} until something may become {@link #overdue}; 0 if it is. */
    long nanosToNextDeadline(long nowNanos, SidePortLimits limits) {
        long next = Long.MAX_VALUE;
        if (output.position() > 0) {
            next = Math.min(next, outputStuckSinceNanos + millis(limits.requestDeadlineMillis()) - nowNanos);
        }
        if (outputShut) {
            next = Math.min(next, lingerStartedNanos + millis(LINGER_MS) - nowNanos);
        }
        if (!finishing) {
            next = Math.min(next, requestUnderWay
                    ? requestStartedNanos + millis(limits.requestDeadlineMillis()) - nowNanos
                    : quietSinceNanos + millis(limits.idleTimeoutMillis()) - nowNanos);
        }
        return Math.max(0, next);
    }

    /** Closes the socket at once (a reset if input is unread); any thread, any number of times. */
    void closeNow() {
        key.cancel();
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing a socket we are done with; a failure leaves nothing to clean up.
        }
    }

    private static long millis(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }
}
