package dev.numbers.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Checks a numbers.log against the set of numbers a load run sent: every sent number exactly
 * once, nothing else, every line well formed (stripped or padded, ending with the newline).
 * Runs on the caller's thread; holds a second bitset as large as the expected one.
 */
final class LogVerifier {

    /** What the log holds compared with what was sent. */
    record Verdict(long expected, long found, long missing, long unexpected, long duplicated, long malformed,
                   List<String> examples) {
        boolean ok() {
            return missing == 0 && unexpected == 0 && duplicated == 0 && malformed == 0;
        }

        String describe() {
            if (ok()) {
                return String.format("verify: OK, the log holds exactly the %d unique numbers sent, once each", expected);
            }
            return String.format("verify: FAILED: %d expected, %d found; missing %d, unexpected %d, duplicated %d, malformed lines %d%s",
                    expected, found, missing, unexpected, duplicated, malformed,
                    examples.isEmpty() ? "" : "; for example " + String.join(", ", examples));
        }
    }

    private static final int MAX_EXAMPLES = 5;

    private LogVerifier() {
    }

    /**
     * Reads {@code log} once, from start to end.
     *
     * @param expected the numbers sent, as a bitset over [0, range)
     * @param newline the server's line separator
     * @param bytesRead told, after each read (up to 1 MB), how many bytes of the log have been read so
     *                  far; on this thread, so it must be cheap (the progress line reads a field)
     * @throws IOException if the log cannot be opened or read: no verdict then
     */
    static Verdict verify(Path log, long[] expected, byte[] newline, LongConsumer bytesRead) throws IOException {
        long expectedCount = 0;
        for (long word : expected) {
            expectedCount += Long.bitCount(word);
        }
        long[] found = new long[expected.length];
        long foundCount = 0;
        long unexpected = 0;
        long duplicated = 0;
        long malformed = 0;
        List<String> examples = new ArrayList<>();
        byte lineEnd = newline[newline.length - 1];
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            long offset = 0; // file offset of buffer[0]
            long total = 0;
            while (true) {
                int read = channel.read(buffer);
                if (read > 0) {
                    total += read;
                    bytesRead.accept(total);
                }
                buffer.flip();
                int lineStart = 0;
                for (int i = 0; i < buffer.limit(); i++) {
                    if (buffer.get(i) != lineEnd) {
                        continue;
                    }
                    int number = parse(buffer, lineStart, i + 1 - newline.length, newline);
                    if (number < 0) {
                        malformed++;
                        example(examples, "malformed line at byte " + (offset + lineStart));
                    } else if (number >= expected.length * 64L || !isSet(expected, number)) {
                        unexpected++;
                        example(examples, "unexpected " + number);
                    } else if (isSet(found, number)) {
                        duplicated++;
                        example(examples, "duplicated " + number);
                    } else {
                        found[number >>> 6] |= 1L << number;
                        foundCount++;
                    }
                    lineStart = i + 1;
                }
                if (read < 0) {
                    if (lineStart < buffer.limit()) {
                        malformed++;
                        example(examples, "a last line without a newline at byte " + (offset + lineStart));
                    }
                    break;
                }
                buffer.position(lineStart).compact();
                offset += lineStart;
                if (!buffer.hasRemaining()) { // a "line" of a whole buffer without a newline
                    malformed++;
                    example(examples, "a line of over 1 MB at byte " + offset);
                    offset += buffer.position();
                    buffer.clear();
                }
            }
        }
        long missing = expectedCount - foundCount;
        if (missing > 0) {
            for (int word = 0; word < expected.length && examples.size() < MAX_EXAMPLES; word++) {
                long absent = expected[word] & ~found[word];
                if (absent != 0) {
                    example(examples, "missing " + (word * 64L + Long.numberOfTrailingZeros(absent)));
                }
            }
        }
        return new Verdict(expectedCount, foundCount, missing, unexpected, duplicated, malformed, examples);
    }

    /** The number in {@code buffer[start, end)}, which the newline follows, or -1 if malformed. */
    private static int parse(ByteBuffer buffer, int start, int end, byte[] newline) {
        if (end <= start || end - start > 9) {
            return -1;
        }
        for (int i = 0; i < newline.length; i++) {
            if (buffer.get(end + i) != newline[i]) {
                return -1;
            }
        }
        int number = 0;
        for (int i = start; i < end; i++) {
            int digit = buffer.get(i) - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            number = number * 10 + digit;
        }
        boolean stripped = end - start == 1 || buffer.get(start) != '0';
        boolean padded = end - start == 9;
        return stripped || padded ? number : -1;
    }

    private static boolean isSet(long[] bits, int number) {
        return (bits[number >>> 6] & (1L << number)) != 0;
    }

    private static void example(List<String> examples, String example) {
        if (examples.size() < MAX_EXAMPLES) {
            examples.add(example);
        }
    }
}
