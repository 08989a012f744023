package dev.numbers.server;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The set of numbers seen in this run: one bit for each of the 10^9 nine-digit values, 125 MB
 * allocated (and zeroed) once at startup.
 *
 * <p>Thread-safe and lock-free: any client thread may call {@link #add} at any time. Bits only
 * ever go from 0 to 1, so a read that finds the bit set is a final answer, and only a number
 * that looks new pays for the atomic {@code getAndBitwiseOr}, which decides the one winner when
 * several clients send the same new number at the same moment. No allocation.
 *
 * <p>The reads are acquire reads, not plain ones, although a plain read would answer "seen or
 * not" as well: a thread that sees another's bit must also see everything that thread did before
 * setting it, in particular its {@link BatchesInFlight#begin}, or a client could be closed while
 * the batch that holds its number is still being written (see {@link BatchesInFlight}). On x86
 * the two reads are the same instruction; the acquire keeps the JIT from reordering.
 */
final class SeenNumbers {

    /** Nine decimal digits: 0 to 999,999,999. */
    static final int CAPACITY = 1_000_000_000;

    private static final int WORD_SHIFT = 6; // 64 bits per long
    /**
     * Numbers per pair of passes: the cache lines of 1,024 words (64 KiB) are still in L1 or L2
     * when the second pass sets them. Measured end to end, unique-heavy, against the C reference:
     * 256 to 2,048 alike (1.11 to 1.18 times it), 8,192 1.08, a whole batch of 26,214 0.91.
     */
    static final int CHUNK = 1024;
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] words;

    /** The set of every nine-digit number: 125 MB. */
    SeenNumbers() {
        this(CAPACITY);
    }

    /** The set of every nine-digit number, allocated first at startup: a heap too small for it is said in one line. */
    static SeenNumbers allocate() throws StartupException {
        try {
            return new SeenNumbers();
        } catch (OutOfMemoryError e) {
            throw new StartupException("not enough memory for the 125 MB set of seen numbers: "
                    + "give the JVM a larger heap, for example -Xmx256m", e);
        }
    }

    /** A set of the numbers below {@code capacity} (the JIT warm-up uses a small one). */
    SeenNumbers(int capacity) {
        this.words = new long[(capacity + 63) >>> WORD_SHIFT];
    }

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

    /**
     * Adds a batch: {@code numbers[from, from + count)}, setting {@code isNew[i]} for the i-th
     * number of the batch exactly when {@link #add} would have returned true for it.
     *
     * <p>In chunks of {@link #CHUNK}, each in two passes, so that the cache misses of a chunk
     * overlap instead of queueing: the first pass only reads the words (independent loads the CPU
     * runs many at a time; a set bit already answers "duplicate"), the second sets the bits of the
     * numbers that looked new, with the atomic, on words now in cache. A locked instruction waits
     * for every earlier load, so interleaving the atomics with the reads would serialize every
     * miss; and over a whole batch the words would have left the near caches before the second
     * pass. A chunk of repeats only needs no second pass. Measured in {@code SeenSetBenchmark}
     * and end to end (bench/README.md).
     *
     * @return how many numbers of the batch were new
     */
    int addAll(int[] numbers, int from, int count, boolean[] isNew) {
        int fresh = 0;
        for (int chunk = 0; chunk < count; chunk += CHUNK) {
            fresh += addChunk(numbers, from, chunk, Math.min(count, chunk + CHUNK), isNew);
        }
        return fresh;
    }

    private int addChunk(int[] numbers, int from, int start, int end, boolean[] isNew) {
        int looksNew = 0;
        for (int i = start; i < end; i++) {
            int number = numbers[from + i];
            boolean unseen = ((long) WORDS.getAcquire(words, number >>> WORD_SHIFT) & (1L << number)) == 0;
            isNew[i] = unseen;
            looksNew += unseen ? 1 : 0;
        }
        if (looksNew == 0) {
            return 0; // repeats only, the common case of a duplicate-heavy load: nothing to set
        }
        int fresh = 0;
        for (int i = start; i < end; i++) {
            if (isNew[i]) {
                int number = numbers[from + i];
                long bit = 1L << number;
                boolean won = ((long) WORDS.getAndBitwiseOr(words, number >>> WORD_SHIFT, bit) & bit) == 0;
                isNew[i] = won;
                fresh += won ? 1 : 0;
            }
        }
        return fresh;
    }

    /** True if {@code number} has been added. */
    boolean contains(int number) {
        return ((long) WORDS.getAcquire(words, number >>> WORD_SHIFT) & (1L << number)) != 0;
    }
}
