package dev.numbers.server;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Appends a batch of whole lines to the log file in one write, and keeps the file holding whole
 * lines only: a write that fails part way (disk full) is cut back to its last whole line, and the
 * next attempt starts there.
 *
 * <p>What a crash can leave: every complete line is a number received; only the last line can
 * be incomplete. Linux copies a write into the page cache a page at a time and stops between two
 * pages when the process is killed, so a {@code kill -9} during a write can leave the first part
 * of a batch, ending in part of a line with no newline, which a reader drops (as redis drops a
 * truncated AOF record, and Kafka a partial message). Writing the batch a page at a time made
 * that rarer, never impossible, and cost 5% of the unique-heavy rate; ordering the batch so that
 * page boundaries fall between lines cost 9% (perf.py, 5 interleaved rounds, 2026-11-25). The
 * log is truncated at every start, so the server never reads a torn line itself.
 *
 * <p>Not thread-safe: {@link NumberLog} calls it under its write lock. No allocation.
 */
final class LogAppender {

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
        int start = lines.position();
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
}
