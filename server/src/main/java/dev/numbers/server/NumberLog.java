package dev.numbers.server;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * The log of unique numbers, {@code numbers.log}: opened fresh for the run ({@link LogFile}),
 * then only ever appended to in whole lines ({@link LogAppender}), and forced to disk by the
 * fsync policy ({@link LogSync}). A failing disk is retried until it works ({@link DiskTrouble}).
 *
 * <p>Thread-safe: client threads call {@link #store} once per read batch. The write runs under
 * one lock (the kernel serializes writes to a file anyway); the fsync of {@code always} runs
 * outside it, so that one fsync can cover the batches of several clients. Each batch is in the
 * operating system before {@link #store} returns, so a {@code kill -9} of the server loses
 * nothing stored. No allocation per batch.
 *
 * <p>A failing write (disk full, I/O error) is cut back to its last whole line, said once on
 * stderr, and retried every second from there while the lock is held. Every client thread that
 * needs to store then waits in {@link #store}, without reading more, so TCP holds its client back:
 * nothing more is accepted than can be stored. (A thread with nothing to store still reads, so a
 * {@code terminate} gets through.) {@link #abandonRetries} (at shutdown) ends the waiting: what is
 * still not written is counted in {@link #unwrittenNumbers}.
 */
final class NumberLog implements Closeable {

    private final LogFile file;
    private final byte lineEnd;
    private final LogAppender appender;
    private final LogSync sync;
    /** Failing writes and {@code always} forces: clients are held while it lasts. */
    private final DiskTrouble trouble =
            new DiskTrouble("holding clients back until it works, retrying every " + DiskTrouble.RETRY_INTERVAL_MS + " ms",
                    "clients are read again");

    private final ReentrantLock writeLock = new ReentrantLock();
    /** The batch being written; guarded by {@link #writeLock}. */
    private ByteBuffer pending;
    /** {@link LogAppender#size} as of the last completed write, for readers outside the lock. */
    private volatile long appendedBytes;
    private final AtomicLong unwrittenNumbers = new AtomicLong();

    // Made once, so that storing a batch allocates nothing.
    private final DiskTrouble.IoAction writePending;
    private final DiskTrouble.IoAction force;
    private final String writeWhat;

    private NumberLog(LogFile file, byte[] separator, FsyncPolicy fsync) {
        this.file = file;
        this.lineEnd = separator[separator.length - 1];
        this.appender = new LogAppender(file, lineEnd);
        this.sync = new LogSync(file, fsync, () -> appendedBytes);
        this.writePending = () -> appender.append(pending);
        this.force = sync::force;
        this.writeWhat = "write " + file.path();
    }

    /**
     * Opens the log at {@code path} (see {@link LogFile#open}); {@code channels} may stand in a
     * test's channel for the file's.
     *
     * @param separator the line separator; its last byte ends every line
     */
    static NumberLog open(Path path, byte[] separator, FsyncPolicy fsync, UnaryOperator<FileChannel> channels)
            throws IOException {
        LogFile file = LogFile.open(path);
        return new NumberLog(new LogFile(path, channels.apply(file.channel()), file.regular()), separator, fsync);
    }

    /** A log over an already open, empty file: for tests with failing channels. */
    static NumberLog over(LogFile file, byte[] separator, FsyncPolicy fsync) {
        return new NumberLog(file, separator, fsync);
    }

    Path path() {
        return file.path();
    }

    /** The fsync policy in force: {@code never} for a log that is not a regular file. */
    FsyncPolicy fsyncPolicy() {
        return sync.policy();
    }

    /** Starts the fsync timer of the {@code interval} policy. */
    void startSync(ThreadFactory threads) {
        sync.start(threads);
    }

    /**
     * Stores the whole lines in {@code lines[position, limit)}: appends them, and with
     * {@link FsyncPolicy#ALWAYS} forces them to disk, before returning. Retries a failing write
     * or fsync every second until it works (see the class comment).
     *
     * @return how many of the lines could not be written: 0, unless {@link #abandonRetries} was
     *     called while writing failed (they are also counted in {@link #unwrittenNumbers}). An
     *     fsync abandoned that way is not a loss here: the lines are in the OS, and
     *     {@link #close} forces them again and fails if it cannot.
     */
    long store(ByteBuffer lines) {
        writeLock.lock();
        try {
            pending = lines;
            boolean written = trouble.untilItWorks(writeWhat, writePending);
            pending = null;
            appendedBytes = appender.size(); // the whole lines written, by a failed attempt too
            if (!written) {
                long lost = countLines(lines);
                unwrittenNumbers.addAndGet(lost);
                return lost;
            }
        } finally {
            writeLock.unlock();
        }
        if (sync.policy() == FsyncPolicy.ALWAYS) {
            trouble.untilItWorks(sync.forceWhat(), force);
        }
        return 0;
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

    /**
     * Stops waiting for a failing disk (shutdown): every retry makes one last attempt, and what
     * it cannot write is counted in {@link #unwrittenNumbers}.
     */
    void abandonRetries() {
        trouble.abandon();
    }

    /** True while a write or fsync (of any policy) is failing and being retried. */
    boolean isFailing() {
        return trouble.isFailing() || sync.isFailing();
    }

    /** Numbers accepted but never written, because retries were abandoned. */
    long unwrittenNumbers() {
        return unwrittenNumbers.get();
    }

    /** The cause of the last write or fsync failure, for the final message. */
    String lastFailure() {
        return trouble.lastFailure();
    }

    long bytesWritten() {
        return appendedBytes;
    }

    long fsyncCount() {
        return sync.forces();
    }

    long fsyncNanos() {
        return sync.forceNanos();
    }

    /** Forces the log to disk and closes it (any policy); the interval timer stops first. */
    @Override
    public void close() throws IOException {
        try {
            sync.close();
        } finally {
            file.channel().close();
        }
    }
}
