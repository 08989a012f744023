package dev.numbers;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Tracks, for each client slot, whether a batch is between its first mark in the seen-set and
 * the end of its log write.
 *
 * <p>Why: client A marks 42 as new and is about to write it; client B sends 42 too, finds it
 * seen, counts a duplicate, reads end of stream and closes. B's client now believes 42 is stored;
 * a {@code kill -9} before A's write would prove it wrong. So before a session closes a
 * connection it waits, with {@link #awaitOthers}, for the batches in flight at that moment.
 * A batch never waits for another, so waiting cannot deadlock.
 *
 * <p>Each slot has a sequence number, odd while a batch is in flight. Lock-free; two atomic
 * increments per batch, and a scan of the slots once per connection.
 */
final class BatchesInFlight {

    private static final long PARK_NANOS = 20_000;

    private final AtomicLongArray sequences;

    BatchesInFlight(int slots) {
        this.sequences = new AtomicLongArray(slots);
    }

    /** The batch of {@code slot} starts marking numbers. */
    void begin(int slot) {
        sequences.incrementAndGet(slot);
    }

    /** The batch of {@code slot} is written (or failed for good). */
    void end(int slot) {
        sequences.incrementAndGet(slot);
    }

    /** Waits until every other slot's batch that is in flight now has ended. */
    void awaitOthers(int slot) {
        for (int other = 0; other < sequences.length(); other++) {
            long sequence = sequences.get(other);
            if (other == slot || (sequence & 1) == 0) {
                continue;
            }
            while (sequences.get(other) == sequence) {
                LockSupport.parkNanos(PARK_NANOS);
            }
        }
    }
}
