package dev.numbers;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The log of unique numbers, {@code numbers.log}: created or truncated when opened, then only
 * ever appended to, in whole lines, and forced to disk by the {@link FsyncPolicy}.
 *
 * <p>Thread-safe: client threads call {@link #store} once per read batch. The write itself runs
 * under one lock (the kernel serializes writes to a file anyway); the fsync of {@code always}
 * runs outside it, so that one fsync can cover the batches of several clients. Each batch is in
 * the operating system before {@link #store} returns, so a {@code kill -9} of the server loses
 * nothing stored.
 *
 * <p>Each batch is written in one write per 4 KiB page of the file (see {@link #chunkEnd}):
 * Linux copies a write into the page cache a page at a time and gives up between two pages when
 * the process is killed, so a write of many pages could leave half a line behind a
 * {@code kill -9}. Split this way, only a kill that lands while the few bytes of a line's head
 * are copied can (see the README, "Durability", for the measured rates).
 *
 * <p>A failing write (disk full, I/O error) is cut back to its last whole line, reported once
 * on stderr, and retried every second from there while the lock is held. Every client thread
 * that needs to store then waits in {@link #store}, without reading more, so TCP holds its client
 * back: a client is held after at most one read batch, and nothing more is accepted than can be
 * stored. (A thread with nothing to store still reads, so a {@code terminate} gets through.)
 * When the write works again that is reported too. {@link #abandonRetries} (at shutdown) ends
 * the waiting: what is still not written is counted in {@link #unwrittenNumbers}.
 */
final class NumberLog implements Closeable {

    /** The page size the kernel copies writes in (4 KiB on every common Linux platform). */
    static final int PAGE_BYTES = 4096;
    /** A write may cross a page boundary with fewer bytes than this before it: one line's head. */
    static final int HEAD_BYTES = 16;
    /** Time between two attempts of a failing write or fsync, and between two interval fsyncs. */
    static final long RETRY_INTERVAL_MS = 1_000;
    static final long FSYNC_INTERVAL_MS = 1_000;

    /** A write or fsync of a batch, retried by {@link #untilItWorks}. */
    @FunctionalInterface
    private interface IoAction {
        void run(ByteBuffer lines) throws IOException;
    }

    private final Path path;
    private final FileChannel channel;
    private final FsyncPolicy fsync;
    private final byte lineEnd;
    /**
     * False for a log that is not a regular file (/dev/null, a FIFO): written in order, not at
     * positions; never cut back (a pipe cannot be) or forced.
     */
    private final boolean regularFile;
    private final ScheduledExecutorService syncTimer;

    private final ReentrantLock writeLock = new ReentrantLock();
    /** Bytes of whole lines in the file; guarded by {@link #writeLock}. */
    private long size;
    /** Bytes in the file, a partial line after a failed write included; guarded by writeLock. */
    private long fileSize;
    /** {@link #size} as of the last completed write, for readers outside the lock. */
    private volatile long appendedBytes;

    private final Object syncLock = new Object();
    /** Bytes known to be on disk; guarded by {@link #syncLock}. */
    private long syncedBytes;
    /** Written by the interval timer thread only; read by metrics. */
    private volatile boolean timerSyncFailing;

    private volatile boolean failing;
    private final CountDownLatch abandoned = new CountDownLatch(1);
    private final AtomicLong unwrittenNumbers = new AtomicLong();
    private volatile String lastFailure = "";

    private final LongAdder syncCount = new LongAdder();
    private final LongAdder syncNanos = new LongAdder();

    // Made once, so that storing a batch allocates nothing.
    private final IoAction write = this::writeAll;
    private final IoAction force = lines -> sync();
    private final String writeWhat;
    private final String forceWhat;

    private NumberLog(Path path, FileChannel channel, FsyncPolicy fsync, byte lineEnd, boolean regularFile) {
        this.path = path;
        this.channel = channel;
        this.fsync = fsync;
        this.lineEnd = lineEnd;
        this.regularFile = regularFile;
        this.writeWhat = "write " + path;
        this.forceWhat = "force " + path + " to disk";
        if (fsync == FsyncPolicy.INTERVAL) {
            syncTimer = Executors.newSingleThreadScheduledExecutor(Threads.daemons("log-fsync"));
            syncTimer.scheduleWithFixedDelay(this::timerSync, FSYNC_INTERVAL_MS, FSYNC_INTERVAL_MS, TimeUnit.MILLISECONDS);
        } else {
            syncTimer = null;
        }
    }

    /**
     * Creates the log at {@code path}, or truncates it if it exists, and makes that durable. A
     * regular file is locked first, for as long as the log is open: a second server pointed at
     * the same file fails here instead of emptying the first one's log under it.
     *
     * @param separator the line separator; its last byte ends every line
     * @throws IOException if the file cannot be created, locked or truncated
     */
    static NumberLog create(Path path, byte[] separator, FsyncPolicy fsync) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            if (!Files.isRegularFile(path)) {
                // /dev/null, a FIFO: nothing to lock, truncate or force (fsync fails on them).
                Log.info("the log " + path + " is not a regular file: it is written in order, never forced to disk");
                return new NumberLog(path, channel, FsyncPolicy.NEVER, separator[separator.length - 1], false);
            }
            lock(path, channel);
            channel.truncate(0);
            channel.force(true);
            forceDirectory(path.toAbsolutePath().getParent());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return over(path, channel, separator, fsync);
    }

    private static void lock(Path path, FileChannel channel) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this JVM: another server in the same process
        }
        if (lock == null) {
            throw new FileSystemException(path.toString(), null, "in use: locked by another process (another numbers-server?)");
        }
    }

    /** A log over an open, empty channel: {@link #create} uses it, and tests with failing channels. */
    static NumberLog over(Path path, FileChannel channel, byte[] separator, FsyncPolicy fsync) {
        return new NumberLog(path, channel, fsync, separator[separator.length - 1], true);
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
            boolean written = untilItWorks(writeWhat, write, lines);
            appendedBytes = size; // the whole lines written, by a failed attempt too
            if (!written) {
                long lost = countLines(lines);
                unwrittenNumbers.addAndGet(lost);
                return lost;
            }
        } finally {
            writeLock.unlock();
        }
        if (fsync == FsyncPolicy.ALWAYS) {
            untilItWorks(forceWhat, force, lines);
        }
        return 0;
    }

    /**
     * Writes the buffer's lines in page-sized chunks. If a write fails, the file is cut back to
     * the last whole line and the buffer's position is left at the first line not written.
     */
    private void writeAll(ByteBuffer lines) throws IOException {
        if (fileSize != size && regularFile) {
            channel.truncate(size); // a failed write left part of a line; a retry starts clean
            fileSize = size;
        }
        while (lines.hasRemaining()) {
            int start = lines.position();
            int limit = lines.limit();
            lines.limit(chunkEnd(lines, size, lineEnd));
            try {
                while (lines.hasRemaining()) {
                    int written = regularFile ? channel.write(lines, fileSize) : channel.write(lines);
                    if (written <= 0) {
                        throw new IOException("write made no progress");
                    }
                    fileSize += written;
                }
                size = fileSize;
            } catch (IOException e) {
                int kept = lastLineEnd(lines, start, lines.position());
                size += kept - start;
                lines.position(kept);
                cutBackQuietly();
                throw e;
            } finally {
                lines.limit(limit);
            }
        }
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

    private void cutBackQuietly() {
        if (!regularFile) {
            fileSize = size; // what went into a pipe cannot be taken back
            return;
        }
        try {
            channel.truncate(size);
            fileSize = size;
        } catch (IOException ignored) {
            // The retry cuts the partial line off before it writes (fileSize still says so).
        }
    }

    /**
     * Where the next write of {@code lines[position, limit)} should end, when the file holds
     * {@code fileSize} bytes (always a line end). A write may cross one 4 KiB page boundary of
     * the file, and only when less than {@link #HEAD_BYTES} of it lie before that boundary: the
     * head of the line that straddles it. So each write ends at the last line end before the
     * first page boundary it may not cross:
     * <pre>
     *   page:   |.......... k ..........|.......... k+1 ..........|
     *   writes:   ...][ 1: whole lines  ][2: head|tail, lines     ][3 ...
     *                                 ^ line end, under 16 bytes before the boundary
     * </pre>
     * Linux stops a write between two pages when the writer is killed, so write 2 can only be
     * cut while its few head bytes are copied; a multi-page write could be cut at any of its
     * boundaries, mid-line. One write per page, at most: see the README, "Durability".
     *
     * @throws IllegalArgumentException if a line is longer than {@link #HEAD_BYTES}
     */
    static int chunkEnd(ByteBuffer lines, long fileSize, byte lineEnd) {
        int start = lines.position();
        int end = lines.limit();
        long toBoundary = PAGE_BYTES - (fileSize % PAGE_BYTES);
        long reach = toBoundary < HEAD_BYTES ? toBoundary + PAGE_BYTES : toBoundary;
        if (end - start <= reach) {
            return end;
        }
        int limit = start + (int) reach;
        for (int i = limit - 1; i >= start; i--) {
            if (lines.get(i) == lineEnd) {
                return i + 1;
            }
        }
        throw new IllegalArgumentException("no line end within " + reach + " bytes at file offset " + fileSize);
    }

    /** Forces everything appended so far to disk; one force serves every caller waiting for it. */
    private void sync() throws IOException {
        long wanted = appendedBytes;
        synchronized (syncLock) {
            if (syncedBytes >= wanted || !regularFile) {
                return;
            }
            long covered = appendedBytes; // batches appended while this caller waited are covered too
            long start = System.nanoTime();
            channel.force(false);
            syncNanos.add(System.nanoTime() - start);
            syncCount.increment();
            syncedBytes = covered;
        }
    }

    /** The {@code interval} policy's timer: forces the log if anything was appended since. */
    private void timerSync() {
        try {
            sync();
            if (timerSyncFailing) {
                timerSyncFailing = false;
                Log.warn("fsync of " + path + " works again");
            }
        } catch (IOException e) {
            if (!timerSyncFailing) {
                timerSyncFailing = true;
                Log.error("cannot force " + path + " to disk: " + Log.describe(e) + "; retrying every "
                        + FSYNC_INTERVAL_MS + " ms");
            }
        }
    }

    /**
     * Runs {@code action} until it works: after a failure, says so once on stderr, marks the log
     * failing, and tries again every second; says so when it works again.
     *
     * @return true when it worked; false if retries were abandoned while it was failing
     */
    private boolean untilItWorks(String what, IoAction action, ByteBuffer lines) {
        long failingSince = 0;
        while (true) {
            try {
                action.run(lines);
                if (failingSince != 0) {
                    Log.warn("could " + what + " again after " + (System.nanoTime() - failingSince) / 1_000_000
                            + " ms of failures; clients are read again");
                    failing = false;
                }
                return true;
            } catch (IOException e) {
                if (failingSince == 0) {
                    failingSince = System.nanoTime();
                    lastFailure = Log.describe(e);
                    if (!failing) { // once per episode, not once per client waiting on it
                        Log.error("cannot " + what + ": " + lastFailure + "; holding clients back until it works, "
                                + "retrying every " + RETRY_INTERVAL_MS + " ms");
                    }
                    failing = true;
                }
                if (abandoned.getCount() == 0) {
                    return false;
                }
                awaitQuietly(abandoned, RETRY_INTERVAL_MS);
            }
        }
    }

    /**
     * Stops waiting for a failing disk (shutdown): every retry makes one last attempt, and what
     * it cannot write is counted in {@link #unwrittenNumbers}.
     */
    void abandonRetries() {
        abandoned.countDown();
    }

    /** True while a write or fsync (of any policy) is failing and being retried. */
    boolean isFailing() {
        return failing || timerSyncFailing;
    }

    /** Numbers accepted but never written, because retries were abandoned. */
    long unwrittenNumbers() {
        return unwrittenNumbers.get();
    }

    /** The cause of the last write or fsync failure, for the final message. */
    String lastFailure() {
        return lastFailure;
    }

    long bytesWritten() {
        return appendedBytes;
    }

    long fsyncCount() {
        return syncCount.sum();
    }

    long fsyncNanos() {
        return syncNanos.sum();
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

    /** Forces the log to disk and closes it (any policy); the interval timer stops first. */
    @Override
    public void close() throws IOException {
        if (syncTimer != null) {
            // Not shutdownNow: an interrupt during force() would close the channel under us.
            syncTimer.shutdown();
            awaitQuietly(syncTimer);
        }
        try {
            sync();
        } finally {
            channel.close();
        }
    }

    private static void awaitQuietly(CountDownLatch latch, long millis) {
        try {
            latch.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(ScheduledExecutorService executor) {
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
