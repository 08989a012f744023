package dev.numbers.server;

import java.nio.ByteBuffer;

/**
 * One client slot's working memory, allocated once when the server starts so that serving a
 * connection allocates nothing: the bytes read, the numbers decoded from them, which of those
 * were new, and the log lines of the new ones. Used by one thread at a time.
 */
final class SessionBuffers {

    /**
     * Bytes per read: 26,214 lines. Measured end to end, interleaved: 256 KiB did the
     * unique-heavy workload about 25% faster than 64 KiB (fewer batches to lock and write) and
     * no slower than 1 MiB, which costs 10 MB more RSS; duplicate-heavy was the same for all.
     */
    static final int READ_BUFFER_BYTES = 256 * 1024;

    /** Direct memory one slot takes: the read buffer and the log-line buffer. */
    static final long DIRECT_BYTES = 2L * LineDecoder.bufferCapacity(READ_BUFFER_BYTES);

    /** Heap one slot takes (close enough: the two arrays, for the shortest line). */
    static final long HEAP_BYTES = (READ_BUFFER_BYTES / LineDecoder.MIN_LINE_BYTES + 1) * (Integer.BYTES + 1L);

    /** The bytes read from the connection, a partial line carried over from the last read first. */
    final ByteBuffer in = LineDecoder.allocateBuffer(READ_BUFFER_BYTES);
    /** The log lines of the batch's new numbers, as {@link LogFormat} writes them. */
    final ByteBuffer out = LineDecoder.allocateBuffer(READ_BUFFER_BYTES);
    /** The numbers of the batch's whole lines, in order. */
    final int[] numbers;
    /** For each of {@link #numbers}: new to the run (this batch won it), or a duplicate. */
    final boolean[] isNew;

    /** @param lineBytes bytes in one number line, separator included */
    SessionBuffers(int lineBytes) {
        this.numbers = new int[READ_BUFFER_BYTES / lineBytes + 1];
        this.isNew = new boolean[numbers.length];
    }
}
