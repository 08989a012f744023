package dev.numbers.server;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Forces the log from the operating system's cache to the disk, as the {@link FsyncPolicy} says:
 * {@code always} after each batch, {@code interval} once a second from a timer thread when
 * anything was appended, {@code never} only at {@link #close}. A log that is not a regular file
 * is never forced (fsync fails on pipes).
 *
 * <p>Group commit: a force covers every byte appended when it starts, so a caller that finds its
 * bytes already covered returns at once, and one fsync serves every client waiting for it.
 * Thread-safe.
 */
final class LogSync {

    /** Time between two forces of the {@code interval} policy. */
    static final long INTERVAL_MS = 1_000;

    private final LogFile file;
    private final FsyncPolicy policy;
    /** Bytes of whole lines appended so far (read outside the write lock). */
    private final LongSupplier appendedBytes;
    private final String forceWhat;
    /** Failures of the interval timer's forces: said once, retried by the next tick. */
    private final DiskTrouble timerTrouble;

    private final Object forceLock = new Object();
    /** Bytes known to be on disk; guarded by {@link #forceLock}. */
    private long syncedBytes;
    private volatile long forces;
    private volatile long forceNanos;

    private ScheduledExecutorService timer;

    LogSync(LogFile file, FsyncPolicy policy, LongSupplier appendedBytes) {
        this.file = file;
        this.policy = file.regular() ? policy : FsyncPolicy.NEVER;
        this.appendedBytes = appendedBytes;
        this.forceWhat = "force " + file.path() + " to disk";
        this.timerTrouble = new DiskTrouble("retrying every " + INTERVAL_MS + " ms", "");
    }

    /** The policy in force: {@code never} for a log that is not a regular file. */
    FsyncPolicy policy() {
        return policy;
    }

    /** "force numbers.log to disk", for messages. */
    String forceWhat() {
        return forceWhat;
    }

    /** Starts the {@code interval} policy's timer thread; nothing for the other policies. */
    void start(ThreadFactory threads) {
        if (policy == FsyncPolicy.INTERVAL) {
            timer = Executors.newSingleThreadScheduledExecutor(threads);
            timer.scheduleWithFixedDelay(Threads.reporting("interval fsync", this::timerForce),
                    INTERVAL_MS, INTERVAL_MS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Forces everything appended so far to disk, unless a force already covered it; one force
     * serves every caller waiting for it. Nothing for a log that is not a regular file.
     */
    void force() throws IOException {
        long wanted = appendedBytes.getAsLong();
        synchronized (forceLock) {
            if (syncedBytes >= wanted || !file.regular()) {
                return;
            }
            long covered = appendedBytes.getAsLong(); // batches appended while this caller waited are covered too
            long start = System.nanoTime();
            file.channel().force(false);
            forceNanos += System.nanoTime() - start;
            forces++;
            syncedBytes = covered;
        }
    }

    private void timerForce() {
        try {
            force();
            timerTrouble.recovered(forceWhat);
        } catch (IOException e) {
            timerTrouble.failed(forceWhat, e);
        }
    }

    /** True while the interval timer's forces fail. */
    boolean isFailing() {
        return timerTrouble.isFailing();
    }

    long forces() {
        return forces;
    }

    long forceNanos() {
        return forceNanos;
    }

    /** Stops the timer (letting a force under way finish) and forces the log, whatever the policy. */
    void close() throws IOException {
        if (timer != null) {
            // Not shutdownNow: an interrupt during force() would close the channel under us.
            timer.shutdown();
            try {
                timer.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        force();
    }
}
