package dev.numbers.server;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

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
 * <p><b>Memory ordering.</b> The rule needs B, having seen A's bit in the set, to see A's
 * {@link #begin} too. {@link ClientSession} calls {@code begin} before it marks any number, and
 * {@code begin} is a volatile increment; {@link SeenNumbers} sets bits with a volatile
 * read-modify-write and reads them with acquire: a read that sees A's bit therefore
 * happens-after A's {@code begin}, and B's {@link #awaitOthers}, which comes later in B's
 * thread, reads A's odd sequence number. A plain read of the set's words would break this
 * silently (nothing would order it after A's increment); so would a {@code begin} moved after
 * the marking.
 *
 * <p>Each slot has a sequence number, odd while a batch is in flight. Lock-free on the number
 * path: two atomic increments per batch, and a volatile read of the waiter count. A waiting
 * thread sleeps on a monitor and is woken by the {@link #end} it waits for, so a wait that lasts
 * (a batch held by a failing disk) costs no CPU.
 */
final class BatchesInFlight {

    private final AtomicLongArray sequences;
    /** Threads in {@link #awaitOthers}' sleeping wait; {@link #end} wakes them only when non-zero. */
    private final AtomicInteger sleepers = new AtomicInteger();
    private final Object wakeUp = new Object();

    BatchesInFlight(int slots) {
        this.sequences = new AtomicLongArray(slots);
    }

    /** The batch of {@code slot} starts marking numbers. Call before the first mark. */
    void begin(int slot) {
        sequences.incrementAndGet(slot);
    }

    /** The batch of {@code slot} is written (or failed for good). */
    void end(int slot) {
        sequences.incrementAndGet(slot);
        // Read after the increment: a sleeper that registered before it is woken; one that
        // registers after it sees the new sequence before it sleeps (both are volatile).
        if (sleepers.get() > 0) {
            synchronized (wakeUp) {
                wakeUp.notifyAll();
            }
        }
    }

    /** True while a batch of {@code slot} is in flight. */
    boolean inFlight(int slot) {
        return (sequences.get(slot) & 1) != 0;
    }

    /**
     * Waits until every other slot's batch that is in flight now has ended. A batch ends within
     * a write, so the wait is usually short; while a failing disk holds a batch it can last as
     * long as the failure, asleep.
     *
     * @throws InterruptedException if the thread is interrupted while it waits
     */
    void awaitOthers(int slot) throws InterruptedException {
        for (int other = 0; other < sequences.length(); other++) {
            long sequence = sequences.get(other);
            if (other != slot && (sequence & 1) != 0) {
                awaitChange(other, sequence);
            }
        }
    }

    private void awaitChange(int other, long sequence) throws InterruptedException {
        sleepers.incrementAndGet();
        try {
            synchronized (wakeUp) {
                while (sequences.get(other) == sequence) {
                    wakeUp.wait();
                }
            }
        } finally {
            sleepers.decrementAndGet();
        }
    }
}
