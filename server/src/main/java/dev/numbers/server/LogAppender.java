package dev.numbers.server;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Appends whole lines to the log file, and keeps it holding whole lines only: a write that fails
 * part way (disk full) is cut back to its last whole line, and the next attempt starts there.
 *
 * <p>Each batch is written in one write per 4 KiB page of the file (see {@link #chunkEnd}): Linux
 * copies a write into the page cache a page at a time and gives up between two pages when the
 * process is killed, so a write of many pages could leave half a line behind a {@code kill -9}.
 * Split this way, only a kill that lands while the few bytes of a line's head are copied can.
 *
 * <p>Not thread-safe: {@link NumberLog} calls it under its write lock. No allocation.
 */
final class LogAppender {

    /** The page size the kernel copies writes in (4 KiB on every common Linux platform). */
    static final int PAGE_BYTES = 4096;
    /** A write may cross a page boundary with fewer bytes than this before it: one line's head. */
    static final int HEAD_BYTES = 16;

    private final LogFile file;
    private final byte lineEnd;
    /** Bytes of whole lines in the file. */
    private long size;
    /** Bytes in the file, a partial line after a failed write included. */
    private long fileSize;

    /** @param lineEnd the last byte of the line separator, which ends every line */
    LogAppender(LogFile file, byte lineEnd) {
        this.file = file;
        this.lineEnd = lineEnd;
    }

    /** Bytes of whole lines written so far. */
    long size() {
        return size;
    }

    /**
     * Writes the whole lines in {@code lines[position, limit)}. If a write fails, the file is cut
     * back to its last whole line, {@code lines}' position is left at the first line not
     * written, and the failure is thrown: calling again with the same buffer resumes exactly.
     */
    void append(ByteBuffer lines) throws IOException {
        if (fileSize != size && file.regular()) {
            file.channel().truncate(size); // a failed write left part of a line; a retry starts clean
            fileSize = size;
        }
        while (lines.hasRemaining()) {
            int start = lines.position();
            int limit = lines.limit();
            lines.limit(chunkEnd(lines, size, lineEnd));
            try {
                while (lines.hasRemaining()) {
                    int written = file.regular() ? file.channel().write(lines, fileSize) : file.channel().write(lines);
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
        if (!file.regular()) {
            fileSize = size; // what went into a pipe cannot be taken back
            return;
        }
        try {
            file.channel().truncate(size);
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
     * boundaries, mid-line.
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
}
