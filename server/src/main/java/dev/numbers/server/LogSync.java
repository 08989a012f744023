package dev.numbers.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Forces the log from the operating system's cache to the disk, as the {@link FsyncPolicy} says:
 * {@code always} after each batch, {@code interval} once a second from a timer thread when
 * anything was appended, {@code never} only at {@link #close}. A log that is not a regular file
 * is never forced (fsync fails on pipes and devices). A failing fsync is retried and said once
 * per episode by a {@link DiskTrouble} of its own, apart from the writes'.
 *
 * <p>Group commit: a force covers every byte appended when it starts, so a caller that finds its
 * bytes already covered returns at once, and one fsync serves every client waiting for it.
 * Thread-safe.
 */
final class LogSync {

    /** Time between two forces of the {@code interval} policy. */
    static final long INTERVAL_MS = 1_000;

    private final FsyncPolicy policy;
    /** Bytes of whole lines appended so far (read outside the write lock). */
    private final LongSupplier appendedBytes;
    private final String forceWhat;
    private final DiskTrouble trouble;

    private final Object forceLock = new Object();
    // Guarded by forceLock: the file forced (the log's current one), and the bytes known on disk.
    private FileChannel channel;
    private boolean regular;
    private long syncedBytes;
    private volatile long forces;
    private volatile long forceNanos;

    private ScheduledExecutorService timer;

    LogSync(Path path, FileChannel channel, boolean regular, FsyncPolicy policy, LongSupplier appendedBytes) {
        this.channel = channel;
        this.regular = regular;
        this.policy = regular ? policy : FsyncPolicy.NEVER;
        this.appendedBytes = appendedBytes;
        this.forceWhat = "force " + path + " to disk";
        this.trouble = new DiskTrouble(policy == FsyncPolicy.ALWAYS
                ? "holding clients back until it works, retrying every " + DiskTrouble.RETRY_INTERVAL_MS + " ms"
                : "retrying every " + INTERVAL_MS + " ms", policy == FsyncPolicy.ALWAYS ? "clients are read again" : "");
    }

    /** The policy in force: {@code never} for a log that is not a regular file. */
    FsyncPolicy policy() {
        return policy;
    }

    /** Starts the {@code interval} policy's timer thread; nothing for the other policies. */
    void start(ThreadFactory threads) {
        if (policy == FsyncPolicy.INTERVAL) {
            timer = Executors.newSingleThreadScheduledExecutor(threads);
            timer.scheduleWithFixedDelay(Threads.reporting("interval fsync", this::timerForce),
                    INTERVAL_MS, INTERVAL_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** After a batch's write: with {@code always}, forces it, retrying a failing fsync until it works. */
    void afterWrite() {
        if (policy == FsyncPolicy.ALWAYS) {
            trouble.untilItWorks(forceWhat, this::force);
        }
    }

    /**
     * Forces everything appended so far to disk, unless a force already covered it; one force
     * serves every caller waiting for it. Nothing for a log that is not a regular file.
     */
    void force() throws IOException {
        long wanted = appendedBytes.getAsLong();
        synchronized (forceLock) {
            if (syncedBytes >= wanted || !regular) {
                return;
            }
            long covered = appendedBytes.getAsLong(); // batches appended while this caller waited are covered too
            long start = System.nanoTime();
            channel.force(false);
            forceNanos += System.nanoTime() - start;
            forces++;
            syncedBytes = covered;
        }
    }

    /**
     * From now on forces {@code next} (the log reopened): the file forced so far is forced one
     * last time first, so that a reopen does not weaken the policy.
     *
     * @throws IOException if that last force fails; then nothing changes
     */
    void replace(FileChannel next, boolean nextRegular) throws IOException {
        synchronized (forceLock) {
            if (regular) {
                channel.force(false);
            }
            channel = next;
            regular = nextRegular;
        }
    }

    private void timerForce() {
        try {
            force();
            trouble.recovered(forceWhat);
        } catch (IOException e) {
            trouble.failed(forceWhat, e);
        }
    }

    /** Ends every wait for a failing fsync (shutdown); {@link #close} still forces. */
    void abandonRetries() {
        trouble.abandon();
    }

    /** True while forces fail. */
    boolean isFailing() {
        return trouble.isFailing();
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
