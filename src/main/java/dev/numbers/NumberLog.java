package dev.numbers;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The log of unique numbers, {@code numbers.log}: created or truncated when opened, then only
 * ever appended to, by whole lines.
 *
 * <p>Thread-safe: client threads call {@link #append} once per read batch, under one lock held
 * for the write calls only. Each append reaches the operating system before it returns, so a
 * {@code kill -9} of the server loses nothing that was appended.
 *
 * <p>No write ever crosses a 4 KiB page boundary of the file in the middle of a line, except one
 * that carries only the line straddling that boundary. Linux copies a write into the page cache
 * a page at a time and gives up between pages when the process is killed, so a larger write
 * could leave half a line behind a {@code kill -9}; this way the window is the few hundred
 * nanoseconds between the two pages of one short line (see the README, "Durability").
 */
final class NumberLog implements Closeable {

    /** The page size the kernel copies writes in (4 KiB on every common Linux platform). */
    static final int PAGE_BYTES = 4096;

    private final Path path;
    private final FileChannel channel;
    private final byte lineEnd;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Bytes of whole lines in the file; guarded by {@link #writeLock}. */
    private long size;

    private NumberLog(Path path, FileChannel channel, byte lineEnd) {
        this.path = path;
        this.channel = channel;
        this.lineEnd = lineEnd;
    }

    /**
     * Creates the log at {@code path}, or truncates it if it exists.
     *
     * @param separator the line separator; its last byte ends every line
     * @throws IOException if the file cannot be created or truncated
     */
    static NumberLog create(Path path, byte[] separator) throws IOException {
        FileChannel channel = FileChannel.open(path,
                StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        return new NumberLog(path, channel, separator[separator.length - 1]);
    }

    Path path() {
        return path;
    }

    /**
     * Writes the whole lines in {@code lines[position, limit)} at the end of the log, and
     * advances the buffer's position past them.
     *
     * @throws IOException if the file cannot be written
     */
    void append(ByteBuffer lines) throws IOException {
        writeLock.lock();
        try {
            while (lines.hasRemaining()) {
                writeChunk(lines, chunkEnd(lines, size, lineEnd));
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Where the next write of {@code lines[position, limit)} should end, when the file holds
     * {@code fileSize} bytes: the end of the buffer if that stays within the current page; else
     * the last line end before the page boundary; else (a line straddles the boundary) the end
     * of that line.
     */
    static int chunkEnd(ByteBuffer lines, long fileSize, byte lineEnd) {
        int start = lines.position();
        int end = lines.limit();
        long bytesToPageEnd = PAGE_BYTES - (fileSize % PAGE_BYTES);
        if (end - start <= bytesToPageEnd) {
            return end;
        }
        int boundary = start + (int) bytesToPageEnd;
        for (int i = boundary - 1; i >= start; i--) {
            if (lines.get(i) == lineEnd) {
                return i + 1;
            }
        }
        for (int i = boundary; i < end; i++) {
            if (lines.get(i) == lineEnd) {
                return i + 1;
            }
        }
        return end;
    }

    private void writeChunk(ByteBuffer lines, int chunkEnd) throws IOException {
        int limit = lines.limit();
        lines.limit(chunkEnd);
        try {
            while (lines.hasRemaining()) {
                size += channel.write(lines, size);
            }
        } finally {
            lines.limit(limit);
        }
    }

    /** Forces everything written so far to the storage device. */
    void force() throws IOException {
        channel.force(false);
    }

    /** Forces the log to disk and closes it. */
    @Override
    public void close() throws IOException {
        try {
            force();
        } finally {
            channel.close();
        }
    }
}
