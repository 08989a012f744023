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
 * <p>Each batch is written in one write per 4 KiB page of the file (see {@link #chunkEnd}):
 * Linux copies a write into the page cache a page at a time and gives up between two pages when
 * the process is killed, so a write of many pages could leave half a line behind a
 * {@code kill -9}. Split this way, only a kill that lands while the few bytes of a line's head
 * are copied can (see the README, "Durability", for the measured rates).
 */
final class NumberLog implements Closeable {

    /** The page size the kernel copies writes in (4 KiB on every common Linux platform). */
    static final int PAGE_BYTES = 4096;
    /** A write may cross a page boundary with fewer bytes than this before it: one line's head. */
    static final int HEAD_BYTES = 16;

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
