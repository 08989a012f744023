package dev.numbers;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The set of numbers seen in this run: one bit for each of the 10^9 nine-digit values, 125 MB
 * allocated (and zeroed) once at startup.
 *
 * <p>Thread-safe and lock-free: any client thread may call {@link #add} at any time. Bits only
 * ever go from 0 to 1, so a plain (acquire) read that finds the bit set is a final answer, and
 * only a number that looks new pays for the atomic {@code getAndBitwiseOr}, which decides the one
 * winner when several clients send the same new number at the same moment. No allocation.
 */
final class SeenNumbers {

    /** Nine decimal digits: 0 to 999,999,999. */
    static final int CAPACITY = 1_000_000_000;

    private static final int WORD_SHIFT = 6; // 64 bits per long
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] words = new long[(CAPACITY + 63) >>> WORD_SHIFT];

    /**
     * Marks {@code number} as seen.
     *
     * @return true if it was not seen before: exactly one caller gets true for each number
     * @throws ArrayIndexOutOfBoundsException if {@code number} is negative or beyond the capacity
     */
    boolean add(int number) {
        int index = number >>> WORD_SHIFT;
        long bit = 1L << number; // Java shifts a long by the low 6 bits of the distance: number % 64
        if (((long) WORDS.getAcquire(words, index) & bit) != 0) {
            return false;
        }
        return ((long) WORDS.getAndBitwiseOr(words, index, bit) & bit) == 0;
    }

    /** True if {@code number} has been added. */
    boolean contains(int number) {
        return ((long) WORDS.getAcquire(words, number >>> WORD_SHIFT) & (1L << number)) != 0;
    }
}
