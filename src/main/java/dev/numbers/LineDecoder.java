package dev.numbers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Decodes the client protocol: each line is exactly nine ASCII digits followed by the line
 * separator, or {@code terminate} followed by it. Nothing else is valid.
 *
 * <p>Pure and stateless: no I/O, no allocation, safe to share between threads. The hot method,
 * {@link #decodeNumbers}, reads each fixed-width line as one little-endian {@code long} (digits
 * 0-7) and one {@code int} (digit 8, the separator, and bytes past the line that are masked off),
 * validates and converts them in a few arithmetic steps (SWAR: SIMD within a register), and stops
 * at the first line that is not a complete number line. {@link #classify} then tells the caller,
 * off the hot path, what that line is.
 *
 * <p>Buffers passed in must be {@link ByteOrder#LITTLE_ENDIAN} and must have at least
 * {@link #SLACK_BYTES} bytes of capacity after the last byte to decode: the {@code int} read of a
 * line's tail can reach up to two bytes past the line's end.
 */
final class LineDecoder {

    /** Why {@link #classify} stopped the decoding of a read. */
    enum Stop {
        /** The bytes are the start of a valid line; read more to complete it. */
        NEED_MORE,
        /** The bytes cannot start a valid line: the connection must be closed. */
        INVALID,
        /** A complete {@code terminate} line: the server must shut down. */
        TERMINATE
    }

    /** Capacity a buffer needs beyond its last decoded byte (see the class comment). */
    static final int SLACK_BYTES = 16;

    static final int DIGITS_PER_LINE = 9;

    private static final byte[] TERMINATE_WORD = "terminate".getBytes(StandardCharsets.US_ASCII);

    /** Eight ASCII zeros, {@code '0'} = 0x30 in every byte. */
    private static final long ASCII_ZEROS = 0x3030_3030_3030_3030L;
    /** The high nibble of every byte. */
    private static final long HIGH_NIBBLES = 0xF0F0_F0F0_F0F0_F0F0L;
    /** Adds 6 to every byte: pushes 0x3A..0x3F (':' to '?') out of the 0x3_ row. */
    private static final long PLUS_SIX = 0x0606_0606_0606_0606L;
    /** What {@link #isEightDigits} computes when every byte is a digit. */
    private static final long ALL_DIGITS = 0x3333_3333_3333_3333L;

    /** Byte 0 and byte 4 of a long: two lanes of the Lemire conversion. */
    private static final long LANES_0_AND_4 = 0x0000_00FF_0000_00FFL;
    /** 100 in the low lane and 1,000,000 in the high lane (Lemire's mul1). */
    private static final long MUL_100_AND_1000000 = 0x000F_4240_0000_0064L;
    /** 1 in the low lane and 10,000 in the high lane (Lemire's mul2). */
    private static final long MUL_1_AND_10000 = 0x0000_2710_0000_0001L;

    private final byte[] separator;
    private final int lineBytes;
    /** The line's tail as a little-endian int, digit byte zeroed: the separator in bytes 1..n. */
    private final int separatorInTail;
    /** Masks the digit byte and the separator bytes of the tail int. */
    private final int tailMask;
    /** {@code terminate} followed by the separator. */
    private final byte[] terminateLine;

    /**
     * @param separator the line separator, one or two bytes ({@code "\n"} or {@code "\r\n"})
     * @throws IllegalArgumentException for any other length
     */
    LineDecoder(byte[] separator) {
        if (separator.length < 1 || separator.length > 2) {
            throw new IllegalArgumentException("line separator must be 1 or 2 bytes, got " + separator.length);
        }
        this.separator = separator.clone();
        this.lineBytes = DIGITS_PER_LINE + separator.length;
        int sep = 0;
        for (int i = 0; i < separator.length; i++) {
            sep |= (separator[i] & 0xFF) << (8 * (i + 1));
        }
        this.separatorInTail = sep;
        this.tailMask = separator.length == 1 ? 0xFFFF : 0xFF_FFFF;
        this.terminateLine = new byte[lineBytes];
        System.arraycopy(TERMINATE_WORD, 0, terminateLine, 0, TERMINATE_WORD.length);
        System.arraycopy(separator, 0, terminateLine, TERMINATE_WORD.length, separator.length);
    }

    /** A decoder for this platform's line separator, {@link System#lineSeparator()}. */
    static LineDecoder forPlatform() {
        return new LineDecoder(System.lineSeparator().getBytes(StandardCharsets.US_ASCII));
    }

    /** Bytes in one valid line, number or {@code terminate}: 9 plus the separator. */
    int lineBytes() {
        return lineBytes;
    }

    byte[] separator() {
        return separator.clone();
    }

    /**
     * Decodes the complete number lines at the start of {@code buf[from, to)} into {@code out}.
     * Line {@code k} of the result starts at {@code from + k * lineBytes()}.
     *
     * @return how many lines were decoded; decoding stops before the first line that is not a
     *     complete number line (then {@link #classify} says what it is) or at {@code to}
     * @throws IllegalArgumentException if {@code out} could be too small for the range
     */
    int decodeNumbers(ByteBuffer buf, int from, int to, int[] out) {
        if (out.length < (to - from) / lineBytes) {
            throw new IllegalArgumentException("out holds " + out.length + " numbers, range may hold " + (to - from) / lineBytes);
        }
        int count = 0;
        for (int pos = from; pos <= to - lineBytes; pos += lineBytes) {
            long first8 = buf.getLong(pos);
            int tail = buf.getInt(pos + 8) & tailMask;
            int lastDigit = (tail & 0xFF) - '0';
            if (!isEightDigits(first8) || (lastDigit & 0xFF) > 9 || (tail & ~0xFF) != separatorInTail) {
                break;
            }
            out[count++] = parseEightDigits(first8) * 10 + lastDigit;
        }
        return count;
    }

    /**
     * Says what the bytes at {@code buf[pos, to)} are, given that they do not start with a
     * complete number line (the caller has run {@link #decodeNumbers} up to {@code pos}).
     * Off the hot path: called at most once per read.
     */
    Stop classify(ByteBuffer buf, int pos, int to) {
        int length = Math.min(to - pos, lineBytes);
        boolean numberPrefix = true;
        boolean terminatePrefix = true;
        for (int i = 0; i < length; i++) {
            byte b = buf.get(pos + i);
            numberPrefix &= i < DIGITS_PER_LINE ? isDigit(b) : b == separator[i - DIGITS_PER_LINE];
            terminatePrefix &= b == terminateLine[i];
        }
        if (terminatePrefix) {
            return length == lineBytes ? Stop.TERMINATE : Stop.NEED_MORE;
        }
        return numberPrefix && length < lineBytes ? Stop.NEED_MORE : Stop.INVALID;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    /**
     * True if all eight bytes are ASCII digits. A byte is a digit iff its high nibble is 3 and
     * stays 3 after adding 6 ('9' = 0x39 + 6 = 0x3F; ':' = 0x3A + 6 = 0x40). Per byte the
     * expression puts the high nibble of {@code x} in the high half and the high nibble of
     * {@code x + 6} in the low half, so a digit gives 0x33:
     * <pre>
     *   x                  = 0x39 0x30 0x2F ...   ('9' '0' '/')
     *   x & F0             = 0x30 0x30 0x20
     *   (x + 06) & F0 >> 4 = 0x03 0x03 0x03
     *   or                 = 0x33 0x33 0x23  -> not all digits
     * </pre>
     * A carry out of a byte only happens from a byte above 0xF9, whose high nibble already fails.
     */
    static boolean isEightDigits(long x) {
        return ((x & HIGH_NIBBLES) | (((x + PLUS_SIX) & HIGH_NIBBLES) >>> 4)) == ALL_DIGITS;
    }

    /**
     * Converts eight ASCII digits, the first (most significant) in the lowest byte, to their
     * value. Daniel Lemire, "Fast and accurate number parsing" / "Parsing eight digits" (2022):
     * <pre>
     *   bytes (low to high):  d0 d1 d2 d3 d4 d5 d6 d7   (ASCII minus '0': 0..9 each)
     *   x * 10 + (x >> 8):    byte 2i = 10*d(2i) + d(2i+1), two-digit pairs in bytes 0, 2, 4, 6
     *   lanes 0,4 * (100, 1000000) + lanes 2,6 * (1, 10000), then >> 32:
     *         pair0*1000000 + pair1*10000 + pair2*100 + pair3
     * </pre>
     * The result is only meaningful if {@link #isEightDigits} holds for {@code x}.
     */
    static int parseEightDigits(long x) {
        x -= ASCII_ZEROS;
        x = x * 10 + (x >>> 8);
        x = ((x & LANES_0_AND_4) * MUL_100_AND_1000000 + ((x >>> 16) & LANES_0_AND_4) * MUL_1_AND_10000) >>> 32;
        return (int) x;
    }

    /** Allocates a buffer fit for this decoder: little-endian, with the slack it needs. */
    static ByteBuffer allocateBuffer(int usableBytes) {
        return ByteBuffer.allocateDirect(usableBytes + SLACK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    }
}
