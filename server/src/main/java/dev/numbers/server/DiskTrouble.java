package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Retries a write or fsync of the log that fails (disk full, I/O error) every second until it
 * works, and says so on stderr once per episode, however many threads wait on it: the thread
 * that finds the disk failing first says "cannot ...", the one that finds it working again first
 * says "could ... again". {@link #abandon} (at shutdown) ends every wait.
 *
 * <p>Thread-safe. While an action fails its caller waits here, holding whatever it holds (for a
 * write, the log's lock), so the client threads stop reading and TCP holds their clients back.
 */
final class DiskTrouble {

    /** Time between two attempts of a failing write or fsync. */
    static final long RETRY_INTERVAL_MS = 1_000;

    /** A write or fsync that may fail. */
    @FunctionalInterface
    interface IoAction {
        void run() throws IOException;
    }

    private final String consequence;
    private final String recovery;
    /** {@link System#nanoTime} when the current episode began, or {@link #NOT_FAILING}. */
    private final AtomicLong failingSince = new AtomicLong(NOT_FAILING);
    private static final long NOT_FAILING = Long.MIN_VALUE;
    private final CountDownLatch abandoned = new CountDownLatch(1);
    private volatile String lastFailure = "";

    /**
     * @param consequence what the failure means, after "cannot write numbers.log: No space left
     *     on device; "
     * @param recovery what working again means, after "could write numbers.log again after 5 ms
     *     of failures; ", or empty
     */
    DiskTrouble(String consequence, String recovery) {
        this.consequence = consequence;
        this.recovery = recovery;
    }

    /**
     * Runs {@code action} until it works, every {@link #RETRY_INTERVAL_MS} after a failure.
     *
     * @param what the action for the messages, e.g. "write numbers.log"
     * @return true when it worked; false if it was failing when {@link #abandon} was called
     */
    boolean untilItWorks(String what, IoAction action) {
        while (true) {
            try {
                action.run();
                recovered(what);
                return true;
            } catch (IOException e) {
                failed(what, e);
                if (abandoned.getCount() == 0) {
                    return false;
                }
                awaitAbandon(RETRY_INTERVAL_MS);
            }
        }
    }

    /** Records one failed attempt; the first of an episode is said on stderr. */
    void failed(String what, IOException e) {
        lastFailure = Diagnostics.describe(e);
        if (failingSince.compareAndSet(NOT_FAILING, System.nanoTime())) {
            Diagnostics.error("cannot " + what + ": " + lastFailure + "; " + consequence);
        }
    }

    /** Records a success; the first after an episode is said on stderr. */
    void recovered(String what) {
        long since = failingSince.get();
        if (since != NOT_FAILING && failingSince.compareAndSet(since, NOT_FAILING)) {
            Diagnostics.warn("could " + what + " again after " + (System.nanoTime() - since) / 1_000_000
                    + " ms of failures" + (recovery.isEmpty() ? "" : "; " + recovery));
        }
    }

    /** Ends the waiting: every retry makes one last attempt, then gives up. Any thread, once. */
    void abandon() {
        abandoned.countDown();
    }

    boolean isFailing() {
        return failingSince.get() != NOT_FAILING;
    }

    /** The cause of the last failure, for the final message. */
    String lastFailure() {
        return lastFailure;
    }

    private void awaitAbandon(long millis) {
        try {
            abandoned.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
