package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * The log of unique numbers, {@code numbers.log}: created or emptied for the run, locked against
 * a second server, then only ever appended to in whole lines, and forced to disk by the fsync
 * policy ({@link LogSync}). A failing disk is retried until it works ({@link DiskTrouble}).
 *
 * <p>The file is open in append mode, so every write lands at its current end: a log rotation
 * that empties the file in place (logrotate's {@code copytruncate}) leaves a valid file, not a
 * hole. {@link #reopen} (SIGUSR1) opens the file at the path afresh after it was moved away: the
 * new file gets the numbers first seen from then on, so the files together hold the run's set,
 * each number once. A log moved or deleted without a reopen is said once ({@link #checkPath}).
 * A path that is not a regular file ({@code /dev/null}) is written in order, never truncated,
 * locked or forced; a FIFO is refused (opening it would wait for a reader).
 *
 * <p>Thread-safe: client threads call {@link #store} once per read batch. The write runs under
 * one lock (the kernel serializes writes to a file anyway); the fsync of {@code always} runs
 * outside it, so that one fsync can cover the batches of several clients. Each batch is in the
 * operating system before {@link #store} returns, so a {@code kill -9} of the server loses
 * nothing stored. No allocation per batch.
 *
 * <p>What a crash can leave: every complete line is a number received; only the last line can
 * be incomplete. Linux copies a write into the page cache a page at a time and stops between two
 * pages when the process is killed, so a {@code kill -9} during a write can leave the first part
 * of a batch, ending in part of a line, which a reader drops (as redis drops a truncated AOF
 * record). Writing a page at a time made that rarer, never impossible, and cost 5% of the
 * unique-heavy rate (docs/durability.md).
 *
 * <p>A failing write (disk full, I/O error) is cut back to its last whole line, said once on
 * stderr, and retried every second from there while the lock is held. Every client thread that
 * needs to store then waits in {@link #store}, without reading more, so TCP holds its client back:
 * nothing more is accepted than can be stored. {@link #abandonRetries} (at shutdown) ends the
 * waiting: what is still not written is counted in {@link #unwrittenNumbers}.
 */
final class NumberLog implements Closeable {

    /** The file-type bits of {@code unix:mode}, and those of a FIFO ({@code S_IFMT}, {@code S_IFIFO} of stat(2)). */
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    private final Path path;
    private final byte lineEnd;
    private final UnaryOperator<FileChannel> channels;
    private final LogSync sync;
    private final DiskTrouble writeTrouble =
            new DiskTrouble("holding clients back until it works, retrying every " + DiskTrouble.RETRY_INTERVAL_MS + " ms",
                    "clients are read again");
    private final String writeWhat;

    private final ReentrantLock writeLock = new ReentrantLock();
    // Guarded by writeLock: the file being written, whether it is a regular file, the batch being
    // written, and the bytes of a line that a failed write left at the file's end.
    private FileChannel channel;
    private boolean regular;
    private ByteBuffer pending;
    private int partialBytes;
    private boolean closed;
    /** The open file's identity ({@code (dev=..,ino=..)} on Unix), to see it moved; null where there is none. */
    private volatile Object fileKey;
    private volatile boolean saidMoved;
    /** Bytes of whole lines appended in this run, to every file the log has had. */
    private volatile long appendedBytes;
    private final AtomicLong unwrittenNumbers = new AtomicLong();
    /** Made once, so that storing a batch allocates nothing. */
    private final DiskTrouble.IoAction writePending = this::appendPending;

    private NumberLog(Path path, byte lineEnd, UnaryOperator<FileChannel> channels, Opened file, FsyncPolicy fsync) {
        this.path = path;
        this.lineEnd = lineEnd;
        this.channels = channels;
        this.channel = file.channel();
        this.regular = file.regular();
        this.fileKey = file.key();
        this.sync = new LogSync(path, file.channel(), file.regular(), fsync, () -> appendedBytes);
        this.writeWhat = "write " + path;
    }

    /**
     * Creates the log at {@code path}, or empties it, and locks it; {@code channels} may stand
     * in a test's channel for the file's (at every reopen too).
     *
     * @param separator the line separator; its last byte ends every line
     * @throws IOException if it cannot be created, locked or emptied, or is a FIFO (the message says why)
     */
    static NumberLog open(Path path, byte[] separator, FsyncPolicy fsync, UnaryOperator<FileChannel> channels)
            throws IOException {
        Opened file = openAt(path, channels, true);
        return new NumberLog(path, separator[separator.length - 1], channels, file, fsync);
    }

    /** An open file of the log. */
    private record Opened(FileChannel channel, boolean regular, Object key) {
    }

    /** Opens the file at {@code path} for appending; {@code fresh}: empty it (the start of a run). */
    private static Opened openAt(Path path, UnaryOperator<FileChannel> channels, boolean fresh) throws IOException {
        if (isFifo(path)) {
            throw new FileSystemException(path.toString(), null, "is a FIFO; the log must be a regular file (or /dev/null)");
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (!attributes.isRegularFile()) {
                Diagnostics.info("the log " + path + " is not a regular file: it is written in order, never forced to disk");
                return new Opened(channels.apply(channel), false, attributes.fileKey());
            }
            lock(path, channel);
            if (fresh) {
                channel.truncate(0);
                channel.force(true);
            }
            forceDirectory(path.toAbsolutePath().getParent());
            return new Opened(channels.apply(channel), true, attributes.fileKey());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static boolean isFifo(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & S_IFMT) == S_IFIFO;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return false; // no such file yet, or no unix attributes here: not a FIFO
        }
    }

    private static void lock(Path path, FileChannel channel) throws IOException {
        boolean locked;
        try {
            locked = channel.tryLock() != null; // released when the channel closes
        } catch (OverlappingFileLockException e) {
            locked = false; // held by this JVM: another server in the same process
        }
        if (!locked) {
            throw new FileSystemException(path.toString(), null, "in use: locked by another process (another numbers-server?)");
        }
    }

    /** Makes a new directory entry durable: on Linux a directory can be opened and forced. */
    private static void forceDirectory(Path directory) {
        if (directory == null) {
            return;
        }
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // Not every platform can open a directory (Windows cannot); the file itself is forced.
        }
    }

    Path path() {
        return path;
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
        sync.afterWrite();
        return 0;
    }

    /**
     * Appends {@link #pending}. If a write fails part way, the file is cut back to its last whole
     * line, {@code pending}'s position is left at the first line not written, and the failure is
     * thrown: calling again resumes exactly.
     */
    private void appendPending() throws IOException {
        cutBack(); // a failed write left part of a line; a retry starts clean
        ByteBuffer lines = pending;
        int start = lines.position();
        try {
            while (lines.hasRemaining()) {
                if (channel.write(lines) <= 0) {
                    throw new IOException("write made no progress");
                }
            }
            appendedBytes += lines.position() - start;
        } catch (IOException e) {
            int kept = lastLineEnd(lines, start, lines.position());
            partialBytes = lines.position() - kept;
            appendedBytes += kept - start;
            lines.position(kept);
            try {
                cutBack();
            } catch (IOException ignored) {
                // The retry cuts the partial line off before it writes (partialBytes still says so).
            }
            throw e;
        }
    }

    /** Takes the part of a line a failed write left off the end of the file. */
    private void cutBack() throws IOException {
        if (partialBytes > 0 && regular) { // what went into a device cannot be taken back
            channel.truncate(Math.max(0, channel.size() - partialBytes));
        }
        partialBytes = 0;
    }

    /** The index after the last line end in {@code lines[from, to)}, or {@code from}. */
    private int lastLineEnd(ByteBuffer lines, int from, int to) {
        for (int i = to - 1; i >= from; i--) {
            if (lines.get(i) == lineEnd) {
                return i + 1;
            }
        }
        return from;
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
     * Reopens the log at its path (SIGUSR1, after a rotation moved it away): the batches from now
     * on go to the file there, created if missing and never emptied. The old file is forced to
     * disk and closed. If the path still holds the file being written, nothing changes. A failure
     * is said, and the old file goes on being written.
     */
    void reopen() {
        writeLock.lock();
        try {
            if (closed) {
                return; // the server stopped meanwhile
            }
            if (fileKey != null && fileKey.equals(keyAtPath())) {
                Diagnostics.info("reopen: " + path + " is still the file being written; nothing to reopen");
                return;
            }
            Opened next = openAt(path, channels, false);
            cutBack();
            FileChannel old = channel;
            sync.replace(next.channel(), next.regular());
            channel = next.channel();
            regular = next.regular();
            fileKey = next.key();
            saidMoved = false;
            old.close();
            Diagnostics.info("reopened the log " + path + ": numbers first seen from now on go there");
        } catch (IOException e) {
            Diagnostics.error("cannot reopen the log " + path + ": " + Diagnostics.describe(e)
                    + "; numbers go on to the file already open");
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Says once if the path no longer holds the file being written (moved or deleted without a
     * reopen): numbers then go to a file nobody may find. Called once a second by housekeeping.
     */
    void checkPath() {
        Object key = fileKey;
        boolean moved = key != null && !key.equals(keyAtPath());
        if (moved && !saidMoved) {
            Diagnostics.warn("the log " + path + " was moved or deleted: numbers go on to the file already open, "
                    + "wherever it is now; send SIGUSR1 to reopen the log at its path");
        }
        saidMoved = moved;
    }

    /** The identity of the file at the path now; null if there is none (deleted, or moved away). */
    private Object keyAtPath() {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Stops waiting for a failing disk (shutdown): every retry makes one last attempt, and what
     * it cannot write is counted in {@link #unwrittenNumbers}.
     */
    void abandonRetries() {
        writeTrouble.abandon();
        sync.abandonRetries();
    }

    /** True while a write or fsync (of any policy) is failing and being retried. */
    boolean isFailing() {
        return writeTrouble.isFailing() || sync.isFailing();
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
        return sync.forces();
    }

    long fsyncNanos() {
        return sync.forceNanos();
    }

    /** Forces the log to disk and closes it (any policy); the interval timer stops first. */
    @Override
    public void close() throws IOException {
        writeLock.lock();
        try {
            closed = true;
            sync.close();
        } finally {
            channel.close();
            writeLock.unlock();
        }
    }
}
