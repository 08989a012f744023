package dev.numbers.server;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Set-if-absent on the 10^9-bit set, one read batch (26,214 numbers) per invocation, time per
 * number. Alternatives:
 * <ul>
 *   <li>{@code casOnly}: {@code getAndBitwiseOr} on every number;</li>
 *   <li>{@code checkThenCas}: a plain (acquire) read first, the atomic only for numbers that look
 *       new ({@link SeenNumbers#add});</li>
 *   <li>{@code batch}: {@link SeenNumbers#addAll}, the server's choice, which reads the words of
 *       a chunk of 1,024 numbers before it sets any, so that their cache misses overlap and the
 *       words are still near when the atomics set them;</li>
 *   <li>{@code batchWhole}: the same two passes over the whole batch, the server's choice until
 *       2026-11-25 (the words have left L1 and L2 by the second pass);</li>
 *   <li>{@code ownerPlain}: the single-owner design, where one thread owns the set and needs no
 *       atomics (its hand-off cost between threads is not included, which flatters it).</li>
 * </ul>
 * The concurrent alternatives also run with 2 threads sharing one set (this machine has 2 cores).
 * Range 10^9 is the unique-heavy workload (a cache miss per number), 10^6 the duplicate-heavy one
 * (the set's used part fits in cache). The set is cleared before every iteration so that the
 * unique-heavy workload stays mostly unique.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseParallelGC"})
public class SeenSetBenchmark {

    private static final int BATCH = SessionBuffers.READ_BUFFER_BYTES / 10;
    private static final int POOL = 1 << 24;
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    @Param({"1000000000", "1000000"})
    public int range;

    private int[] pool;
    private SeenNumbers seen;
    private long[] plainWords;

    @Setup(Level.Trial)
    public void generate() {
        SplittableRandom random = new SplittableRandom(7);
        pool = new int[POOL];
        for (int i = 0; i < POOL; i++) {
            pool[i] = random.nextInt(range);
        }
    }

    @Setup(Level.Iteration)
    public void clear() {
        seen = null;
        plainWords = null;
        System.gc(); // collect the last iteration's 250 MB now, not concurrently with the measurement
        seen = new SeenNumbers();
        plainWords = new long[(SeenNumbers.CAPACITY + 63) >>> 6];
    }

    /** Each thread walks the pool from its own offset, a batch at a time. */
    @State(Scope.Thread)
    public static class Cursor {
        private static final AtomicInteger THREADS = new AtomicInteger();
        int offset = THREADS.getAndIncrement() * 7_777_777 % POOL;
        final boolean[] fresh = new boolean[BATCH];
        final long[] scratch = new long[BATCH];

        int next() {
            offset += BATCH;
            if (offset + BATCH > POOL) {
                offset = 0;
            }
            return offset;
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int casOnly(Cursor cursor) {
        int start = cursor.next();
        int fresh = 0;
        long[] words = plainWords;
        for (int i = start; i < start + BATCH; i++) {
            int n = pool[i];
            long bit = 1L << n;
            fresh += ((long) WORDS.getAndBitwiseOr(words, n >>> 6, bit) & bit) == 0 ? 1 : 0;
        }
        return fresh;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int checkThenCas(Cursor cursor) {
        int start = cursor.next();
        int fresh = 0;
        for (int i = start; i < start + BATCH; i++) {
            fresh += seen.add(pool[i]) ? 1 : 0;
        }
        return fresh;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int batch(Cursor cursor) {
        int start = cursor.next();
        return seen.addAll(pool, start, BATCH, cursor.fresh);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int batchWhole(Cursor cursor) {
        int start = cursor.next();
        boolean[] isNew = cursor.fresh;
        long[] words = plainWords;
        for (int i = 0; i < BATCH; i++) {
            int n = pool[start + i];
            isNew[i] = ((long) WORDS.getAcquire(words, n >>> 6) & (1L << n)) == 0;
        }
        int fresh = 0;
        for (int i = 0; i < BATCH; i++) {
            if (isNew[i]) {
                int n = pool[start + i];
                long bit = 1L << n;
                fresh += ((long) WORDS.getAndBitwiseOr(words, n >>> 6, bit) & bit) == 0 ? 1 : 0;
            }
        }
        return fresh;
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(BATCH)
    public int checkThenCasTwoThreads(Cursor cursor) {
        return checkThenCas(cursor);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(BATCH)
    public int batchTwoThreads(Cursor cursor) {
        return batch(cursor);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int ownerPlain(Cursor cursor) {
        int start = cursor.next();
        int fresh = 0;
        long[] words = plainWords;
        for (int i = start; i < start + BATCH; i++) {
            int n = pool[i];
            long word = words[n >>> 6];
            long bit = 1L << n;
            if ((word & bit) == 0) {
                words[n >>> 6] = word | bit;
                fresh++;
            }
        }
        return fresh;
    }
}
