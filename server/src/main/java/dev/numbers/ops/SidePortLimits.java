package dev.numbers.ops;

/**
 * The bounds on one side port's connections, so that no client (slow, silent, or one that does not
 * read its replies) holds more than a socket and a few kilobytes, or holds them for long. Each port
 * has its defaults; tests pass shorter ones. Immutable.
 *
 * @param maxConnections        connections served at once
 * @param idleTimeoutMillis     how long a connection may stay with no request under way
 * @param requestDeadlineMillis how long a request may take from its first byte to its last; also
 *                              how long replies may wait for the client to take any of them
 * @param evictableAfterMillis  when the port is full, a connection that has completed no request
 *                              for this long is closed to make room for a new one
 */
record SidePortLimits(int maxConnections, long idleTimeoutMillis, long requestDeadlineMillis, long evictableAfterMillis) {

    private static final long MILLIS_PER_SECOND = 1_000;

    SidePortLimits {
        if (maxConnections < 1 || idleTimeoutMillis < 1 || requestDeadlineMillis < 1 || evictableAfterMillis < 0) {
            throw new IllegalArgumentException("side port limits out of range: " + maxConnections + " connections, "
                    + idleTimeoutMillis + " ms idle, " + requestDeadlineMillis + " ms per request, "
                    + evictableAfterMillis + " ms before eviction");
        }
    }

    /** A limit as messages name it: {@code 300 s}, or {@code 500 ms} when not whole seconds (tests). */
    static String human(long millis) {
        return millis % MILLIS_PER_SECOND == 0 ? millis / MILLIS_PER_SECOND + " s" : millis + " ms";
    }
}
