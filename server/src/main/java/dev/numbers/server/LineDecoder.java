package dev.numbers.server;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Decodes the client protocol: each line is exactly nine ASCII digits followed by the line
 * separator, or {@code terminate} followed by it. Nothing else is valid.
 *
 * <p>Pure and stateless: no I/O, no allocation, safe to share between threads. The hot method,
 * {@link #decodeNumbers}, reads each fixed-width line as two overlapping little-endian
 * {@code long}s, validates and converts them in a few arithmetic steps (SWAR: SIMD within a
 * register), and stops at the first line that is not a complete number line. {@link #classify}
 * then tells the caller, off the hot path, what that line is.
 *
 * <p>Buffers passed in must be {@link ByteOrder#LITTLE_ENDIAN}; {@link #allocateBuffer} makes
 * one with {@link #SLACK_BYTES} to spare, which {@link LogFormat} needs for its stores.
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

    /** The shortest line: nine digits and a one-byte separator. */
    static final int MIN_LINE_BYTES = DIGITS_PER_LINE + 1;

    private static final byte[] TERMINATE_WORD = "terminate".getBytes(StandardCharsets.US_ASCII);

    /** Eight ASCII zeros, {@code '0'} = 0x30 in every byte. */
    private static final long ASCII_ZEROS = 0x3030_3030_3030_3030L;
    /** Added to a byte holding 0..9 it stays below 0x80; added to 10..0x7F it reaches 0x80. */
    private static final long PLUS_0X76 = 0x7676_7676_7676_7676L;
    private static final long HIGH_BITS = 0x8080_8080_8080_8080L;

    /** Byte 0 and byte 4 of a long: two lanes of the Lemire conversion. */
    private static final long LANES_0_AND_4 = 0x0000_00FF_0000_00FFL;
    /** 100 in the low lane and 1,000,000 in the high lane (Lemire's mul1). */
    private static final long MUL_100_AND_1000000 = 0x000F_4240_0000_0064L;
    /** 1 in the low lane and 10,000 in the high lane (Lemire's mul2). */
    private static final long MUL_1_AND_10000 = 0x0000_2710_0000_0001L;

    /**
     * Where the parts of a line are, for one separator. A line is read as two overlapping longs:
     * {@code head} = bytes 0-7 (digits 0-7) and {@code tail} = the last eight bytes (the rest of
     * the digits, then the separator). For {@code "\n"}:
     * <pre>
     *   line:  d0 d1 d2 d3 d4 d5 d6 d7 d8 \n
     *   head:  d0 .................. d7            at 0
     *   tail:        d2 ................ d8 \n     at 2: digits in bytes 0-6, separator in byte 7
     * </pre>
     * {@code tail - tailZeros} leaves 0..9 in each digit byte and 0 in each separator byte of a
     * valid line; {@code tailMask} selects the high bit of each digit byte and every bit of each
     * separator byte. Records' final fields are constants to the JIT, so each layout's loop
     * compiles with its numbers folded in.
     */
    private record Layout(int lineBytes, int tailOffset, long tailZeros, long tailPlus, long tailMask, int lastDigitShift) {
        static Layout of(byte[] separator) {
            int lineBytes = DIGITS_PER_LINE + separator.length;
            int digitsInTail = 8 - separator.length;
            long zeros = 0;
            long plus = 0;
            long mask = 0;
            for (int i = 0; i < 8; i++) {
                boolean digit = i < digitsInTail;
                long value = digit ? '0' : separator[i - digitsInTail] & 0xFF;
                zeros |= value << (8 * i);
                plus |= (digit ? 0x76L : 0) << (8 * i);
                mask |= (digit ? 0x80L : 0xFFL) << (8 * i);
            }
            return new Layout(lineBytes, lineBytes - 8, zeros, plus, mask, 8 * (digitsInTail - 1));
        }
    }

    private static final Layout LF = Layout.of(new byte[] {'\n'});
    private static final Layout CRLF = Layout.of(new byte[] {'\r', '\n'});

    private final byte[] separator;
    private final int lineBytes;
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
        return separator.length == 1
                ? decode(buf, from, to, out, LF)
                : decode(buf, from, to, out, CRLF);
    }

    /** The hot loop: two loads, two checks and one conversion per line, no branch but the exit. */
    private static int decode(ByteBuffer buf, int from, int to, int[] out, Layout layout) {
        int count = 0;
        for (int pos = from; pos <= to - layout.lineBytes(); pos += layout.lineBytes()) {
            long head = buf.getLong(pos) - ASCII_ZEROS;
            long tail = buf.getLong(pos + layout.tailOffset()) - layout.tailZeros();
            long headBad = (head | (head + PLUS_0X76)) & HIGH_BITS;
            long tailBad = (tail | (tail + layout.tailPlus())) & layout.tailMask();
            if ((headBad | tailBad) != 0) {
                break;
            }
            int lastDigit = (int) (tail >>> layout.lastDigitShift()) & 0xFF;
            out[count++] = parseEightDigits(head) * 10 + lastDigit;
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
     * True if all eight bytes of {@code x} are ASCII digits. After subtracting '0' from every
     * byte, a digit byte holds 0..9, which stays below 0x80 when 0x76 is added; any other byte
     * either is 0x80 or more already (it was below '0', or above 0xAF) or reaches 0x80 with the
     * add (':' = 10 + 0x76 = 0x80):
     * <pre>
     *   x            '9'  '0'  '/'  ':'        0x39 0x30 0x2F 0x3A
     *   d = x - '0'    9    0   -1   10        0x09 0x00 0xFF 0x0A
     *   d + 0x76                               0x7F 0x76 .... 0x80
     *   (d | d+0x76) & 0x80                    0    0    0x80 0x80   -> not all digits
     * </pre>
     * A borrow or carry between bytes only starts at a byte that already fails. The tail check
     * in {@link #decode} is the same, with the separator bytes required to be exactly 0.
     */
    static boolean isEightDigits(long x) {
        long d = x - ASCII_ZEROS;
        return ((d | (d + PLUS_0X76)) & HIGH_BITS) == 0;
    }

    /**
     * Converts eight digits, each byte already minus '0' (0..9), the first (most significant) in
     * the lowest byte, to their value. Daniel Lemire, "Fast and accurate number parsing" /
     * "Parsing eight digits" (2022):
     * <pre>
     *   bytes (low to high):  d0 d1 d2 d3 d4 d5 d6 d7
     *   d * 10 + (d >> 8):    byte 2i = 10*d(2i) + d(2i+1), two-digit pairs in bytes 0, 2, 4, 6
     *   lanes 0,4 * (100, 1000000) + lanes 2,6 * (1, 10000), then >> 32:
     *         pair0*1000000 + pair1*10000 + pair2*100 + pair3
     * </pre>
     */
    static int parseEightDigits(long digits) {
        long pairs = digits * 10 + (digits >>> 8);
        return (int) (((pairs & LANES_0_AND_4) * MUL_100_AND_1000000
                + ((pairs >>> 16) & LANES_0_AND_4) * MUL_1_AND_10000) >>> 32);
    }

    /** Allocates a buffer fit for this decoder: direct, little-endian, with the slack it needs. */
    static ByteBuffer allocateBuffer(int usableBytes) {
        return ByteBuffer.allocateDirect(bufferCapacity(usableBytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The capacity {@link #allocateBuffer} gives a buffer of {@code usableBytes}. */
    static int bufferCapacity(int usableBytes) {
        return usableBytes + SLACK_BYTES;
    }
}
