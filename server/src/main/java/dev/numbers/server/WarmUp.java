package dev.numbers.server;

import java.nio.ByteBuffer;

/**
 * Runs the hot path's per-number loops (decode, mark, format) over synthetic batches before the
 * port opens, so that the JIT has compiled them when the first client arrives. Without it a fresh
 * server runs its first hundred million numbers or so in the interpreter and C1's code while C2
 * collects profiles and compiles, at a fraction of its speed.
 *
 * <p>It touches nothing the server uses: a small set of its own, and a slot's buffers before any
 * client has them; the real set, log and counters are untouched. The batches are shaped like real
 * traffic, because C2 compiles from what it has seen and throws the code away ("deoptimizes")
 * when a branch it never saw is taken: batches of new numbers, of repeats only, and of both, some
 * ending at an invalid line. Bounded by {@link #BUDGET_NANOS}; about 100 ms on 2 cores.
 */
final class WarmUp {

    /** The longest the warm-up may delay the port's opening. */
    static final long BUDGET_NANOS = 400_000_000L;
    /** Calls of each loop: enough for C2 to compile each method whole, not only its loop (OSR). */
    static final int BATCHES = 6_000;
    /** Lines per batch: small, so that the calls, not only the loop iterations, add up. */
    static final int LINES = 512;
    /** Lines in the buffer; each batch is a window of {@link #LINES} of them. */
    private static final int BUFFER_LINES = 1024;
    /**
     * Where each batch's window starts, in lines, round after round: new numbers, then windows
     * that overlap the last (repeats and new numbers), then the same window again (repeats only).
     * The set is emptied after each round.
     */
    private static final int[] WINDOWS = {0, 128, 256, 384, 384};
    /** The last line of the windows that start at 384 is invalid, as a client's bad line is. */
    private static final int INVALID_LINE = 384 + LINES - 1;
    /** The warm-up's numbers are below this: its set is 2 KiB. */
    private static final int RANGE = 1 << 14;

    private WarmUp() {
    }

    /**
     * Warms up {@code decoder} and {@code format} on {@code scratch}, a slot's buffers that no
     * client uses yet.
     *
     * @return the batches run (fewer than {@link #BATCHES} if the budget ran out)
     */
    static int run(LineDecoder decoder, LogFormat format, SessionBuffers scratch) {
        return run(decoder, format, scratch, BUDGET_NANOS);
    }

    /** As above, within {@code budgetNanos} (tests). */
    static int run(LineDecoder decoder, LogFormat format, SessionBuffers scratch, long budgetNanos) {
        int lineBytes = decoder.lineBytes();
        ByteBuffer in = scratch.in;
        fill(in, decoder.separator(), lineBytes);
        SeenNumbers seen = new SeenNumbers(RANGE);
        long deadline = System.nanoTime() + budgetNanos;
        int batch = 0;
        while (batch < BATCHES && System.nanoTime() < deadline) {
            int window = WINDOWS[batch % WINDOWS.length] * lineBytes;
            int count = decoder.decodeNumbers(in, window, window + LINES * lineBytes, scratch.numbers);
            if (seen.addAll(scratch.numbers, 0, count, scratch.isNew) > 0) {
                ClientSession.appendNew(in, window, lineBytes, scratch.isNew, count, scratch.out, format == LogFormat.STRIPPED);
            }
            batch++;
            if (batch % WINDOWS.length == 0) {
                seen = new SeenNumbers(RANGE);
            }
        }
        in.clear();
        scratch.out.clear();
        return batch;
    }

    /**
     * {@link #BUFFER_LINES} lines of numbers below {@link #RANGE}: every sixteenth repeats the line
     * before it (a number sent twice in one batch: one of the two loses the set), one is invalid.
     */
    private static void fill(ByteBuffer in, byte[] separator, int lineBytes) {
        for (int line = 0; line < BUFFER_LINES; line++) {
            int source = line % 16 == 15 ? line - 1 : line;
            int number = source * (RANGE / BUFFER_LINES) + (source * 7) % (RANGE / BUFFER_LINES);
            int at = line * lineBytes;
            for (int digit = 8; digit >= 0; digit--) {
                in.put(at + digit, (byte) ('0' + number % 10));
                number /= 10;
            }
            for (int i = 0; i < separator.length; i++) {
                in.put(at + 9 + i, separator[i]);
            }
        }
        in.put(INVALID_LINE * lineBytes + 4, (byte) 'x');
    }
}
