package dev.numbers.server;

import java.nio.ByteBuffer;

/**
 * Where every client's batches go, the part of the hot path the sessions share: mark the batch's
 * numbers in the {@link SeenNumbers}, copy the lines of the new ones into the session's output
 * buffer ({@link LogFormat}), write those to the {@link NumberLog}, count the batch in
 * {@link Stats}. Each number is logged exactly once across all clients, and counted only once
 * it is in the log.
 *
 * <p>Thread-safe: each client thread calls {@link #store} with its own slot and buffers.
 * Allocation-free; the log's lock is taken once per batch.
 */
final class NumberStore {

    private final SeenNumbers seen;
    private final NumberLog log;
    private final LogFormat format;
    private final Stats stats;
    private final BatchesInFlight inFlight;

    NumberStore(SeenNumbers seen, NumberLog log, LogFormat format, Stats stats, BatchesInFlight inFlight) {
        this.seen = seen;
        this.log = log;
        this.format = format;
        this.stats = stats;
        this.inFlight = inFlight;
    }

    Stats stats() {
        return stats;
    }

    /**
     * Stores the {@code count} numbers of {@code buffers.numbers}, decoded from the lines at the
     * start of {@code buffers.in}, each {@code lineBytes} long. The batch is in flight (see
     * {@link BatchesInFlight}) from before its first mark to the end of its write, so that a
     * client that sent some of the same numbers is not told they are stored before they are.
     */
    void store(int slot, SessionBuffers buffers, int count, int lineBytes) {
        ByteBuffer out = buffers.out;
        long lost = 0;
        int fresh;
        inFlight.begin(slot); // before the first mark: see BatchesInFlight, "Memory ordering"
        try {
            fresh = seen.addAll(buffers.numbers, 0, count, buffers.isNew);
            int outBytes = fresh == 0 ? 0 : format.appendNew(buffers.in, 0, lineBytes, buffers.isNew, count, out);
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
     * Waits until the batches other clients have in flight now are written: call before closing
     * a connection, so that its client never sees the close before a number it sent (and found
     * already seen) is in the log.
     */
    void awaitOthers(int slot) throws InterruptedException {
        inFlight.awaitOthers(slot);
    }
}
