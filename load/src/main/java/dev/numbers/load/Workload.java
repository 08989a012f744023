package dev.numbers.load;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * What each client sends: lines of nine digits drawn uniformly from {@code [0, range)},
 * reproducible from the seed, formatted into one direct buffer per client before the clock
 * starts, so that generation never limits the rate.
 */
final class Workload {

    static final byte[] NEWLINE = System.lineSeparator().getBytes(StandardCharsets.US_ASCII);
    static final int LINE_BYTES = 9 + NEWLINE.length;
    /** A direct buffer holds at most 2^31 - 1 bytes. */
    static final long MAX_LINES_PER_CLIENT = Integer.MAX_VALUE / LINE_BYTES;
    /** Numbers have nine digits: {@code [0, range)} fits them up to this. */
    static final int MAX_RANGE = 1_000_000_000;

    private final ByteBuffer[] payloads;
    private final int range;

    private Workload(ByteBuffer[] payloads, int range) {
        this.payloads = payloads;
        this.range = range;
    }

    /** Generates {@code linesPerClient} lines for each of {@code clients}, in parallel. */
    static Workload generate(int clients, long linesPerClient, int range, long seed) throws InterruptedException {
        if (linesPerClient < 1 || linesPerClient > MAX_LINES_PER_CLIENT) {
            throw new IllegalArgumentException("numbers per client must be 1 to " + MAX_LINES_PER_CLIENT + ", got " + linesPerClient);
        }
        if (range < 1 || range > MAX_RANGE) {
            throw new IllegalArgumentException("range must be 1 to " + MAX_RANGE + ", got " + range);
        }
        ByteBuffer[] payloads = new ByteBuffer[clients];
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(clients, Runtime.getRuntime().availableProcessors()));
        try {
            Future<?>[] done = new Future<?>[clients];
            for (int c = 0; c < clients; c++) {
                int client = c;
                done[c] = pool.submit(() -> payloads[client] = format(linesPerClient, range, clientSeed(seed, client)));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof OutOfMemoryError oom) {
                throw oom;
            }
            throw new IllegalStateException("generating the workload failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return new Workload(payloads, range);
    }

    private static long clientSeed(long seed, int client) {
        return seed * 1_000_003L + client;
    }

    private static ByteBuffer format(long lines, int range, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer payload = ByteBuffer.allocateDirect((int) (lines * LINE_BYTES));
        byte[] chunk = new byte[LINE_BYTES * 65_536];
        long left = lines;
        while (left > 0) {
            int inChunk = (int) Math.min(left, 65_536);
            for (int line = 0; line < inChunk; line++) {
                int number = random.nextInt(range);
                int end = line * LINE_BYTES + 8;
                for (int digit = 0; digit < 9; digit++) {
                    chunk[end - digit] = (byte) ('0' + number % 10);
                    number /= 10;
                }
                System.arraycopy(NEWLINE, 0, chunk, end + 1, NEWLINE.length);
            }
            payload.put(chunk, 0, inChunk * LINE_BYTES);
            left -= inChunk;
        }
        return payload.flip();
    }

    int clients() {
        return payloads.length;
    }

    int range() {
        return range;
    }

    long linesPerClient() {
        return payloads[0].capacity() / LINE_BYTES;
    }

    /** Client {@code client}'s payload: a fresh view, position 0, limit at the end. */
    ByteBuffer payload(int client) {
        return payloads[client].duplicate();
    }

    /** Passes the numbers of lines {@code [from, to)} of client {@code client}'s payload to {@code action}. */
    void forEachNumber(int client, long from, long to, IntConsumer action) {
        ByteBuffer payload = payloads[client];
        for (long line = from; line < to; line++) {
            int pos = (int) (line * LINE_BYTES);
            int number = 0;
            for (int digit = 0; digit < 9; digit++) {
                number = number * 10 + (payload.get(pos + digit) - '0');
            }
            action.accept(number);
        }
    }
}
