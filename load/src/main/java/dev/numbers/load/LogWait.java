package dev.numbers.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The end of a churn run's clock ({@code load --reconnect-every}): waits until the server's log
 * has the byte size of the unique numbers sent, in either format the server writes. A churn
 * client does not wait for its connections but the last, so the last close says nothing about
 * the others; the log does.
 *
 * <p>Runs on the caller's thread, looking at the log's size only (a {@code stat}, never a read
 * of the numbers, so that it takes no CPU from the server it times): every 100 us at first, then
 * less often, up to every 2 ms, which is the clock's resolution. A log that stops growing for
 * the stall timeout ends the wait with {@link Incomplete}: a server that loses numbers never
 * completes. Each look costs a {@code stat} and the few objects NIO makes for it.
 */
final class LogWait {

    private static final long FIRST_PAUSE_NS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final long LONGEST_PAUSE_NS = TimeUnit.MILLISECONDS.toNanos(2);
    /** Numbers have nine digits: below 10^8 a stripped line is shorter than a padded one. */
    private static final int DIGITS = 9;
    /** How much of the log one read takes while telling its format. */
    private static final int FORMAT_READ_BYTES = 64 * 1024;

    /**
     * The log a run should leave: {@code numbers} unique numbers, which take {@code strippedBytes}
     * with leading zeros removed and {@code paddedBytes} with nine digits each.
     */
    record Expected(long numbers, long strippedBytes, long paddedBytes) {
        /** The sizes of the numbers in {@code set}, a bitset, each followed by {@code newline}. */
        static Expected of(long[] set, byte[] newline) {
            long numbers = 0;
            for (long word : set) {
                numbers += Long.bitCount(word);
            }
            // A number has one digit, and one more for each power of ten from 10 to 10^8 it reaches.
            long digits = numbers;
            for (long power = 10; power < 1_000_000_000L; power *= 10) {
                digits += numbers - countBelow(set, power);
            }
            return new Expected(numbers, digits + numbers * newline.length, numbers * (DIGITS + newline.length));
        }

        private static long countBelow(long[] set, long bound) {
            int whole = (int) Math.min(bound >>> 6, set.length);
            long count = 0;
            for (int word = 0; word < whole; word++) {
                count += Long.bitCount(set[word]);
            }
            int rest = (int) (bound & 63);
            if (whole < set.length && rest > 0) {
                count += Long.bitCount(set[whole] & ((1L << rest) - 1));
            }
            return count;
        }

        String describe() {
            return strippedBytes == paddedBytes ? strippedBytes + " bytes"
                    : strippedBytes + " bytes stripped or " + paddedBytes + " padded";
        }
    }

    /** The log did not reach its expected size; the message says what it holds and what it lacks. */
    static final class Incomplete extends Exception {
        private static final long serialVersionUID = 1L;

        Incomplete(String message) {
            super(message);
        }
    }

    private final Path log;
    private final Expected expected;
    private final byte[] newline;
    private final long stallNanos;

    /**
     * @param stallNanos how long the log may stay the same size before the wait gives up
     */
    LogWait(Path log, Expected expected, byte[] newline, long stallNanos) {
        this.log = log;
        this.expected = expected;
        this.newline = newline;
        this.stallNanos = stallNanos;
    }

    /**
     * Returns when the log has the expected size of either format (and, at the stripped size,
     * is stripped: a padded log on its way passes through that size).
     *
     * @throws Incomplete if the log grew past both sizes, or stopped growing short of them
     * @throws IOException if the log's size or contents cannot be read (no such file, say)
     */
    void await() throws Incomplete, IOException, InterruptedException {
        long size = -1;
        long grewAt = System.nanoTime();
        long pause = FIRST_PAUSE_NS;
        while (true) {
            long now = Files.size(log);
            if (now != size) {
                size = now;
                grewAt = System.nanoTime();
                if (size == expected.paddedBytes() || size == expected.strippedBytes() && isStripped()) {
                    return;
                }
                if (size > Math.max(expected.strippedBytes(), expected.paddedBytes())) {
                    throw new Incomplete(String.format(Locale.ROOT, "the log %s has %d bytes, more than the %d unique "
                            + "numbers sent take (%s): it holds numbers not sent, or twice", log, size,
                            expected.numbers(), expected.describe()));
                }
            } else if (System.nanoTime() - grewAt >= stallNanos) {
                throw new Incomplete(String.format(Locale.ROOT, "the log %s has %d bytes and has not grown for %.1f s, "
                        + "but the %d unique numbers sent take %s: the server lost some", log, size,
                        stallNanos / 1e9, expected.numbers(), expected.describe()));
            }
            LockSupport.parkNanos(pause);
            if (Thread.interrupted()) {
                throw new InterruptedException("waiting for " + log);
            }
            pause = Math.min(pause * 2, LONGEST_PAUSE_NS);
        }
    }

    /**
     * Whether the log is stripped, from its first line that tells: one of fewer than nine digits
     * is stripped; nine digits starting with 0, padded. Reads only that far (on random numbers a
     * few lines). False when no line tells: a padded log on its way to its size holds only nine
     * digit lines, and a stripped log that is complete holds the short line of a number below
     * 10^8 (there is one, or the two sizes would be the same and this not asked).
     */
    private boolean isStripped() throws IOException {
        byte lineEnd = newline[newline.length - 1];
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(FORMAT_READ_BYTES);
            int lineLength = 0; // bytes of the current line so far, its newline included
            byte first = 0;
            while (channel.read(buffer.clear()) > 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    byte b = buffer.get();
                    if (lineLength++ == 0) {
                        first = b;
                    }
                    if (b == lineEnd) {
                        int digits = lineLength - newline.length;
                        if (digits < DIGITS) {
                            return true;
                        }
                        if (first == '0') {
                            return false;
                        }
                        lineLength = 0;
                    }
                }
            }
        }
        return false;
    }
}
