package dev.numbers.ops;

import java.nio.ByteBuffer;

/**
 * What a side port speaks, as its {@link SelectorLoop} sees it: a session per connection, and the
 * last word a client gets when the loop closes it. The loop calls both on its own thread only, so
 * neither needs to be thread-safe; neither may block (a session that waits stalls the whole port).
 */
interface Protocol {

    /** Why the loop closes a connection that its session did not finish. */
    enum Closing {
        /** No request under way for the idle timeout. */
        IDLE,
        /** A request not whole by its deadline, counted from its first byte. */
        TOO_SLOW,
        /** The port is full, and no connection has been quiet long enough to make room. */
        REFUSED,
        /** The port is full, and this connection, quiet the longest, makes room for a new one. */
        EVICTED
    }

    /** The session of a connection just accepted. */
    Session open(Connection connection);

    /** What a client is told before a close for {@code reason}; sent if the socket takes it. */
    byte[] lastWord(Closing reason);

    /**
     * One connection's side of the protocol. It replies with {@link Connection#send}, marks where
     * requests begin and end ({@link Connection#requestStarted}, {@link Connection#requestCompleted}),
     * which the loop's deadlines go by, and ends the connection with {@link Connection#finish}.
     */
    interface Session {

        /**
         * Bytes have arrived: consumes all of {@code input} (the loop reuses the buffer). An
         * exception closes the connection and is reported; it does not stop the loop.
         */
        void received(ByteBuffer input, long nowNanos);

        /**
         * The client has shut its output: answers a last request cut short, if it can. The loop
         * then finishes the connection.
         */
        void ended(long nowNanos);
    }
}
