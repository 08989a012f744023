package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * The log of unique numbers, {@code numbers.log}, over a run: the file being written
 * ({@link LogFile}), its fsync policy, and what happens when the disk fails or the file is
 * rotated. The log is emptied at the start and locked against a second server; each number is
 * written once, in whole lines.
 *
 * <p>The fsync policy, in the manner of redis' {@code appendfsync}: {@code always} forces each
 * batch before {@link #store} returns; {@code interval} forces once a second from a timer when
 * anything was appended; {@code never} leaves it to the kernel. {@link #close} forces whatever the
 * policy. A log that is not a regular file is never forced.
 *
 * <p>Thread-safe: client threads call {@link #store} once per read batch. The write runs under
 * one lock (the kernel serializes writes to a file anyway); the fsync of {@code always} runs
 * outside it, so that one fsync covers the batches of several clients. A batch is in the
 * operating system before {@link #store} returns: a {@code kill -9} loses nothing stored, and can
 * leave only the last line incomplete, when it lands inside a write (Linux copies a write a page
 * at a time; docs/durability.md). No allocation per batch.
 *
 * <p>A failing write or fsync (disk full, I/O error) is said once and retried every second, each
 * by its own {@link DiskTrouble}; a failing write is cut back to its last whole line and retried
 * from there with the lock held, so every client thread that needs to store waits without reading
 * more and TCP holds its client back. {@link #abandonRetries} (the stop) ends the wait; what is
 * still not written is counted in {@link #unwrittenNumbers}.
 *
 * <p>Rotation: {@link #reopen} (SIGUSR1) opens the file at the path afresh after a rotation moved
 * it; each number is in one of the files, so together they are the run's set. A log moved or
 * deleted without a reopen is said once ({@link #checkPath}).
 */
final class NumberLog implements Closeable {

    /** Time between two forces of the {@code interval} policy. */
    static final long INTERVAL_MS = 1_000;

    private final Path path;
    private final byte lineEnd;
    private final UnaryOperator<FileChannel> channels;
    private final FsyncPolicy policy;
    private final String writeWhat;
    private final String forceWhat;
    private final DiskTrouble writeTrouble;
    private final DiskTrouble forceTrouble;

    private final ReentrantLock writeLock = new ReentrantLock();
    /** The file written; replaced by {@link #reopen} under the write lock, read by forces outside it. */
    private volatile LogFile file;
    // Guarded by the write lock: the batch being written; whether the log is closed.
    private ByteBuffer pending;
    private boolean closed;
    /** Bytes of whole lines appended in this run, to every file the log has had. */
    private volatile long appendedBytes;
    private final AtomicLong unwrittenNumbers = new AtomicLong();
    private final AtomicLong forces = new AtomicLong();
    private final AtomicLong forceNanos = new AtomicLong();
    private volatile boolean saidMoved;
    private ScheduledExecutorService timer;
    /** Made once, so that storing a batch allocates nothing. */
    private final DiskTrouble.IoAction writePending = this::appendPending;
    private final DiskTrouble.IoAction forceFile = this::force;

    private NumberLog(Path path, byte lineEnd, UnaryOperator<FileChannel> channels, LogFile file, FsyncPolicy fsync) {
        this.path = path;
        this.lineEnd = lineEnd;
        this.channels = channels;
        this.file = file;
        this.policy = file.regular() ? fsync : FsyncPolicy.NEVER;
        this.writeWhat = "write " + path;
        this.forceWhat = "force " + path + " to disk";
        String holding = "holding clients back until it works, retrying every " + DiskTrouble.RETRY_INTERVAL_MS + " ms";
        this.writeTrouble = new DiskTrouble(holding, "clients are read again");
        this.forceTrouble = policy == FsyncPolicy.ALWAYS ? new DiskTrouble(holding, "clients are read again")
                : new DiskTrouble("retrying every " + INTERVAL_MS + " ms", "");
    }

    /**
     * Creates or empties the log at {@code path} and locks it; {@code channels} may stand in a
     * test's channel for the file's (at every reopen too). {@code separator}'s last byte ends lines.
     *
     * @throws IOException if it cannot be created, locked or emptied, or is a FIFO (the message says why)
     */
    static NumberLog open(Path path, byte[] separator, FsyncPolicy fsync, UnaryOperator<FileChannel> channels)
            throws IOException {
        byte lineEnd = separator[separator.length - 1];
        return new NumberLog(path, lineEnd, channels, LogFile.open(path, lineEnd, true, channels), fsync);
    }

    Path path() {
        return path;
    }

    /** The fsync policy in force: {@code never} for a log that is not a regular file. */
    FsyncPolicy fsyncPolicy() {
        return policy;
    }

    /** Starts the fsync timer of the {@code interval} policy; nothing for the others. */
    void startSync(ThreadFactory threads) {
        if (policy == FsyncPolicy.INTERVAL) {
            timer = Executors.newSingleThreadScheduledExecutor(threads);
            timer.scheduleWithFixedDelay(Threads.reporting("interval fsync", this::timerForce),
                    INTERVAL_MS, INTERVAL_MS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Stores the whole lines in {@code lines[position, limit)}: appends them, and with
     * {@link FsyncPolicy#ALWAYS} forces them, before returning, retrying a failure until it works.
     *
     * @return the lines that could not be written: 0 unless {@link #abandonRetries} came while
     *     writing failed (they are counted in {@link #unwrittenNumbers} too). An abandoned fsync
     *     loses nothing here: the lines are in the OS, and {@link #close} forces them again.
     */
    long store(ByteBuffer lines) {
        writeLock.lock();
        try {
            pending = lines;
            boolean written = writeTrouble.untilItWorks(writeWhat, writePending);
            pending = null;
            if (!written) {
                long lost = countLines(lines);
                unwrittenNumbers.addAndGet(lost);
                return lost;
            }
        } finally {
            writeLock.unlock();
        }
        if (policy == FsyncPolicy.ALWAYS) {
            forceTrouble.untilItWorks(forceWhat, forceFile);
        }
        return 0;
    }

    private void appendPending() throws IOException {
        LogFile current = file;
        long before = current.appended();
        try {
            current.append(pending);
        } finally {
            appendedBytes += current.appended() - before; // the whole lines of a failed attempt too
        }
    }

    private long countLines(ByteBuffer lines) {
        long count = 0;
        for (int i = lines.position(); i < lines.limit(); i++) {
            if (lines.get(i) == lineEnd) {
                count++;
            }
        }
        return count;
    }

    /** Forces the file being written (group commit: see {@link LogFile#force}), and counts it. */
    private void force() throws IOException {
        long nanos = file.force();
        if (nanos > 0) {
            forces.incrementAndGet();
            forceNanos.addAndGet(nanos);
        }
    }

    private void timerForce() {
        try {
            force();
            forceTrouble.recovered(forceWhat);
        } catch (IOException e) {
            forceTrouble.failed(forceWhat, e);
        }
    }

    /**
     * Reopens the log at its path (SIGUSR1, after a rotation moved it): batches from now on go to
     * the file there, created if missing, never emptied; the old one is forced and closed. If the
     * path still holds the file being written, nothing changes; a failure is said, and the old
     * file goes on being written.
     */
    void reopen() {
        writeLock.lock();
        try {
            if (closed) {
                return; // the server stopped meanwhile
            }
            if (file.isAtItsPath()) {
                Diagnostics.info("reopen: " + path + " is still the file being written; nothing to reopen");
                return;
            }
            LogFile old = file;
            file = LogFile.open(path, lineEnd, false, channels);
            saidMoved = false;
            Diagnostics.info("reopened the log " + path + ": numbers first seen from now on go there");
            closeOld(old);
        } catch (IOException e) {
            Diagnostics.error("cannot reopen the log " + path + ": " + Diagnostics.describe(e)
                    + "; numbers go on to the file already open");
        } finally {
            writeLock.unlock();
        }
    }

    private static void closeOld(LogFile old) {
        try {
            old.close();
        } catch (IOException e) {
            Diagnostics.error("cannot force the log's old file to disk after the reopen: " + Diagnostics.describe(e));
        }
    }

    /** Says once if the path no longer holds the file being written (moved or deleted, no reopen). Housekeeping, each second. */
    void checkPath() {
        boolean moved = !file.isAtItsPath();
        if (moved && !saidMoved) {
            Diagnostics.warn("the log " + path + " was moved or deleted: numbers go on to the file already open, "
                    + "wherever it is now; send SIGUSR1 to reopen the log at its path");
        }
        saidMoved = moved;
    }

    /** Stops waiting for a failing disk (the stop): each retry makes one last attempt; what fails is counted. */
    void abandonRetries() {
        writeTrouble.abandon();
        forceTrouble.abandon();
    }

    /** True while a write or fsync (of any policy) is failing and being retried. */
    boolean isFailing() {
        return writeTrouble.isFailing() || forceTrouble.isFailing();
    }

    /** Numbers accepted but never written, because retries were abandoned. */
    long unwrittenNumbers() {
        return unwrittenNumbers.get();
    }

    /** The cause of the last write failure, for the final message. */
    String lastFailure() {
        return writeTrouble.lastFailure();
    }

    long bytesWritten() {
        return appendedBytes;
    }

    long fsyncCount() {
        return forces.get();
    }

    long fsyncNanos() {
        return forceNanos.get();
    }

    /** Stops the interval timer (letting a force under way finish), then forces the log and closes it. */
    @Override
    public void close() throws IOException {
        if (timer != null) {
            timer.shutdown(); // not shutdownNow: an interrupt during a force would close the channel under it
            try {
                timer.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        writeLock.lock();
        try {
            closed = true;
            try {
                force(); // here, to count it; the file's close then finds nothing left to force
            } finally {
                file.close();
            }
        } finally {
            writeLock.unlock();
        }
    }
}
