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
import java.util.function.UnaryOperator;

/**
 * One file of the log, as {@link NumberLog} has it open: opened in append mode (created or
 * emptied, locked, its directory entry forced), then appended to in whole lines only, and forced
 * to disk. A path that is not a regular file ({@code /dev/null}) is written in order and never
 * emptied, locked or forced; a FIFO is refused, since opening one for writing waits for a reader.
 *
 * <p>Append mode: every write lands at the file's end as it is at that moment, so a rotation that
 * empties the file in place ({@code copytruncate}) leaves whole lines, not a hole of NUL bytes.
 * A write that fails part way (a full disk) is cut back to its last whole line before anything
 * else is written.
 *
 * <p>{@link #append} runs under the log's write lock, one writer at a time; {@link #force} and
 * {@link #close} may run beside it on other threads (group commit: a force covers every byte
 * appended when it starts, so one fsync serves every client waiting for it). No allocation.
 */
final class LogFile implements Closeable {

    /** The file-type bits of {@code unix:mode}, and a FIFO's ({@code S_IFMT}, {@code S_IFIFO} of stat(2)). */
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    private final Path path;
    private final FileChannel channel;
    private final boolean regular;
    /** The file's identity ({@code (dev=..,ino=..)} on Unix), to tell whether the path still holds it; null where none. */
    private final Object key;
    private final byte lineEnd;
    /** Bytes of a line that a failed write left at the file's end; the writer's only. */
    private int partialBytes;
    /** Bytes of whole lines appended; written by the writer, read by forces. */
    private volatile long appended;
    /** Bytes known to be on disk, and whether the file is closed; guarded by {@code this}. */
    private long synced;
    private boolean closed;

    private LogFile(Path path, FileChannel channel, boolean regular, Object key, byte lineEnd) {
        this.path = path;
        this.channel = channel;
        this.regular = regular;
        this.key = key;
        this.lineEnd = lineEnd;
    }

    /**
     * Opens the file at {@code path} for appending: created if missing, emptied if {@code fresh}
     * (the start of a run), and locked. {@code channels} may stand in a test's channel.
     *
     * @throws IOException if it cannot be created, locked or emptied, or is a FIFO (the message says why)
     */
    static LogFile open(Path path, byte lineEnd, boolean fresh, UnaryOperator<FileChannel> channels) throws IOException {
        if (isFifo(path)) {
            throw new FileSystemException(path.toString(), null, "is a FIFO; the log must be a regular file (or /dev/null)");
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (!attributes.isRegularFile()) {
                Diagnostics.info("the log " + path + " is not a regular file: it is written in order, never forced to disk");
                return new LogFile(path, channels.apply(channel), false, attributes.fileKey(), lineEnd);
            }
            lock(path, channel);
            if (fresh) {
                channel.truncate(0);
                channel.force(true);
            }
            forceDirectory(path.toAbsolutePath().getParent());
            return new LogFile(path, channels.apply(channel), true, attributes.fileKey(), lineEnd);
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

    boolean regular() {
        return regular;
    }

    /** Bytes of whole lines appended to this file. */
    long appended() {
        return appended;
    }

    /** True if the path holds this file still, false once it was moved or deleted (true where files have no identity). */
    boolean isAtItsPath() {
        if (key == null) {
            return true;
        }
        try {
            return key.equals(Files.readAttributes(path, BasicFileAttributes.class).fileKey());
        } catch (IOException e) {
            return false; // nothing there, or nothing we may look at
        }
    }

    /**
     * Appends the whole lines in {@code lines[position, limit)}. A write that fails part way is
     * cut back to its last whole line and thrown, with {@code lines}' position at the first line
     * not written: a call again with the same buffer resumes exactly.
     */
    void append(ByteBuffer lines) throws IOException {
        cutBack(); // a failed write left part of a line; a retry starts clean
        int start = lines.position();
        try {
            while (lines.hasRemaining()) {
                if (channel.write(lines) <= 0) {
                    throw new IOException("write made no progress");
                }
            }
            appended += lines.position() - start;
        } catch (IOException e) {
            int kept = lastLineEnd(lines, start, lines.position());
            partialBytes = lines.position() - kept;
            appended += kept - start;
            lines.position(kept);
            try {
                cutBack();
            } catch (IOException ignored) {
                // The retry cuts the partial line off before it writes (partialBytes still says so).
            }
            throw e;
        }
    }

    /** Takes the part of a line a failed write left off the end of the file (what went into a device stays). */
    private void cutBack() throws IOException {
        if (partialBytes > 0 && regular) {
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

    /**
     * Forces everything appended so far to disk, unless a force already covered it; nothing for
     * a file that is not regular, or is closed (its close forced it).
     *
     * @return the nanoseconds the fsync took; 0 if there was none
     */
    synchronized long force() throws IOException {
        long covering = appended; // batches appended while this caller waited for the lock are covered too
        if (closed || !regular || synced >= covering) {
            return 0;
        }
        long start = System.nanoTime();
        channel.force(false);
        synced = covering;
        return Math.max(1, System.nanoTime() - start);
    }

    /** Forces the file to disk and closes it; a force after this does nothing. */
    @Override
    public synchronized void close() throws IOException {
        try {
            force();
        } finally {
            closed = true;
            channel.close();
        }
    }
}
