package dev.numbers.server;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The client protocol as plainly as it can be said, byte by byte, for property tests: what a
 * server must accept from a stream, and where it must stop reading it.
 */
final class ProtocolModel {

    /** How a stream ends for the server. */
    enum Outcome {
        /** Every line valid, the stream ends at a line end: the client's close ends it. */
        CLEAN_END,
        /** A byte that no valid stream has there, at {@code stopAt}; or, with stopAt = length, a last line cut short. */
        INVALID,
        /** A terminate line, which ends at {@code stopAt}. */
        TERMINATE
    }

    /** The numbers the server must accept, in order, and how and where the stream ends. */
    record Expectation(List<Integer> numbers, Outcome outcome, int stopAt) {
    }

    private static final byte[] TERMINATE = "terminate".getBytes(StandardCharsets.US_ASCII);

    private ProtocolModel() {
    }

    static Expectation expect(byte[] stream, byte[] separator) {
        int lineBytes = 9 + separator.length;
        List<Integer> numbers = new ArrayList<>();
        int lineStart = 0;
        while (lineStart < stream.length) {
            boolean number = true;
            boolean terminate = true;
            int value = 0;
            for (int i = 0; i < lineBytes; i++) {
                if (lineStart + i == stream.length) {
                    return new Expectation(numbers, Outcome.INVALID, stream.length); // cut short at the end
                }
                byte b = stream[lineStart + i];
                boolean separatorByte = i >= 9;
                if (separatorByte) {
                    number &= b == separator[i - 9];
                    terminate &= b == separator[i - 9];
                } else {
                    number &= b >= '0' && b <= '9';
                    terminate &= b == TERMINATE[i];
                    value = value * 10 + (b - '0');
                }
                if (!number && !terminate) {
                    return new Expectation(numbers, Outcome.INVALID, lineStart + i);
                }
            }
            if (terminate) {
                return new Expectation(numbers, Outcome.TERMINATE, lineStart + lineBytes);
            }
            numbers.add(value);
            lineStart += lineBytes;
        }
        return new Expectation(numbers, Outcome.CLEAN_END, stream.length);
    }

    /**
     * A random stream for a server whose line separator is {@code separator}: valid lines with
     * numbers from {@code [base, base + 1000)} (repeats included), and now and then a corruption,
     * a terminate, binary garbage, a stray CRLF, a line ended by the other separator ({@code \r\n}
     * for a {@code \n} server, as a Windows client sends, and {@code \n} for a {@code \r\n} one).
     */
    static byte[] randomStream(SplittableRandom random, int base, boolean allowTerminate, byte[] separator) {
        String newline = new String(separator, StandardCharsets.US_ASCII);
        String otherNewline = newline.equals("\n") ? "\r\n" : "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int lines = random.nextInt(0, 40);
        for (int i = 0; i < lines; i++) {
            byte[] line = (String.format("%09d", base + random.nextInt(1000)) + newline).getBytes(StandardCharsets.US_ASCII);
            switch (random.nextInt(60)) {
                case 0 -> line[random.nextInt(line.length)] = (byte) random.nextInt(256);
                case 1 -> line = Arrays.copyOf(line, random.nextInt(line.length));
                case 2 -> line = Arrays.copyOf(line, line.length + 1 + random.nextInt(3));
                case 3 -> line = "\r\n".getBytes(StandardCharsets.US_ASCII);
                case 4 -> line = "\n".getBytes(StandardCharsets.US_ASCII);
                case 5 -> {
                    line = new byte[random.nextInt(1, 64)];
                    random.nextBytes(line);
                }
                case 6 -> line = allowTerminate ? ("terminate" + newline).getBytes(StandardCharsets.US_ASCII) : line;
                case 7 -> line = ("Terminate" + newline).getBytes(StandardCharsets.US_ASCII);
                case 8 -> line = "1234567891234".getBytes(StandardCharsets.US_ASCII);
                case 9, 10 -> line = (String.format("%09d", base + random.nextInt(1000)) + otherNewline).getBytes(StandardCharsets.US_ASCII);
                case 11 -> line = ("terminate" + otherNewline).getBytes(StandardCharsets.US_ASCII);
                default -> {
                }
            }
            out.writeBytes(line);
        }
        if (random.nextInt(10) == 0) {
            out.writeBytes("12345".getBytes(StandardCharsets.US_ASCII)); // a last line without its newline
        }
        return out.toByteArray();
    }

    /** Random cut points: piece sizes from 1 to {@code maxPiece}, covering the stream. */
    static List<byte[]> randomPieces(SplittableRandom random, byte[] stream, int maxPiece) {
        List<byte[]> pieces = new ArrayList<>();
        for (int offset = 0; offset < stream.length; ) {
            int size = Math.min(stream.length - offset, random.nextInt(1, maxPiece + 1));
            pieces.add(Arrays.copyOfRange(stream, offset, offset + size));
            offset += size;
        }
        return pieces;
    }

    static String printable(byte[] bytes) {
        StringBuilder text = new StringBuilder();
        for (byte b : bytes) {
            int c = b & 0xFF;
            text.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : c == '\n' ? "\\n" : String.format("\\x%02x", c));
        }
        return text.toString();
    }
}
