package dev.numbers.server;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * How a number is written to the log: {@code stripped} (the default: {@code 007007009} becomes
 * {@code 7007009}, {@code 000000000} becomes {@code 0}) or {@code padded} (the nine digits as
 * received). Either way the line ends with the server's line separator.
 *
 * <p>Formatting copies the digits straight from the input line instead of printing the int: two
 * stores per line, no division, no allocation. Called on the hot path by each client thread.
 */
public enum LogFormat {
    STRIPPED,
    PADDED;

    /** Eight ASCII zeros. */
    private static final long ASCII_ZEROS = 0x3030_3030_3030_3030L;

    /**
     * Appends the log line for the valid number line at {@code in[linePos]} to {@code out} at
     * {@code outPos}. Both buffers are little-endian; {@code out} needs
     * {@link LineDecoder#SLACK_BYTES} of capacity past the last line, as the stores overshoot.
     *
     * <pre>
     *   in:   '0' '0' '7' '0' '0' '7' '0' '0' | '9' '\n' ...     first8 (long) | tail (int)
     *   leading zeros lz = trailing zero bytes of (first8 - "00000000") = 2 (at most 8)
     *   out:  first8 >>> 8*lz    -> '7' '0' '0' '7' '0' '0' 0 0  (long store at outPos)
     *         tail               -> at outPos + 8 - lz: '9' '\n' ... (int store)
     *   line: "7007009\n", length 9 - lz + separator
     * </pre>
     * With lz = 8 the shift distance is 64, which Java reduces to 0; the tail store then lands
     * on the first byte and overwrites it, so {@code 000000000} still becomes {@code "0\n"}.
     *
     * @return the position after the appended line
     */
    int append(ByteBuffer in, int linePos, int separatorBytes, ByteBuffer out, int outPos) {
        long first8 = in.getLong(linePos);
        int tail = in.getInt(linePos + 8);
        int leadingZeros = this == STRIPPED ? Long.numberOfTrailingZeros(first8 - ASCII_ZEROS) >>> 3 : 0;
        out.putLong(outPos, first8 >>> (leadingZeros << 3));
        int tailPos = outPos + 8 - leadingZeros;
        out.putInt(tailPos, tail);
        return tailPos + 1 + separatorBytes;
    }

    /**
     * Appends the log lines of the new numbers of a batch: for each {@code i < count} with
     * {@code isNew[i]}, the line at {@code in[from + i * lineBytes]}, to {@code out} from
     * position 0.
     *
     * @return the bytes appended to {@code out}
     */
    int appendNew(ByteBuffer in, int from, int lineBytes, boolean[] isNew, int count, ByteBuffer out) {
        int separatorBytes = lineBytes - LineDecoder.DIGITS_PER_LINE;
        int outPos = 0;
        for (int i = 0; i < count; i++) {
            if (isNew[i]) {
                outPos = append(in, from + i * lineBytes, separatorBytes, out, outPos);
            }
        }
        return outPos;
    }

    /** The option value: {@code stripped} or {@code padded}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
