package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SeenNumbersTest {

    /** One 125 MB set for the whole class: allocating it per test is slow and pointless. */
    private static SeenNumbers seen = new SeenNumbers();

    @AfterAll
    static void release() {
        seen = null;
    }

    @Test
    void addsEachNumberOnce() {
        assertThat(seen.contains(123_456_789)).isFalse();
        assertThat(seen.add(123_456_789)).isTrue();
        assertThat(seen.add(123_456_789)).isFalse();
        assertThat(seen.contains(123_456_789)).isTrue();
        assertThat(seen.contains(123_456_788)).isFalse();
        assertThat(seen.contains(123_456_790)).isFalse();
    }

    @Test
    void coversTheWholeNineDigitRange() {
        assertThat(seen.add(0)).isTrue();
        assertThat(seen.add(999_999_999)).isTrue();
        assertThat(seen.add(0)).isFalse();
        assertThat(seen.add(999_999_999)).isFalse();
        assertThat(seen.contains(1)).isFalse();
        assertThat(seen.contains(999_999_998)).isFalse();
    }

    @Test
    void neighbouringBitsInOneWordAreIndependent() {
        int base = 640_000_000; // a multiple of 64: one whole word
        for (int bit = 0; bit < 64; bit += 2) {
            assertThat(seen.add(base + bit)).isTrue();
        }
        for (int bit = 0; bit < 64; bit++) {
            assertThat(seen.contains(base + bit)).as("bit %d", bit).isEqualTo(bit % 2 == 0);
        }
    }

    /**
     * A batch over several chunks: the first occurrence of each number is new, every later one a
     * repeat, whether it is in the same chunk or a later one; a chunk of repeats only (which
     * skips its second pass) does not hide the new numbers of the next.
     */
    @Test
    void addAllMarksTheFirstOccurrenceOfEachNumberAcrossChunks() {
        int base = 700_000_000;
        int[] numbers = new int[3 * SeenNumbers.CHUNK + 17];
        for (int i = 0; i < numbers.length; i++) {
            numbers[i] = base + (i < SeenNumbers.CHUNK ? i % 100 : i); // the first chunk: 100 numbers, repeated
        }
        numbers[numbers.length - 1] = base + 5; // a repeat of the first chunk, in the last one
        boolean[] isNew = new boolean[numbers.length];
        assertThat(seen.addAll(numbers, 0, numbers.length, isNew)).isEqualTo(100 + numbers.length - SeenNumbers.CHUNK - 1);
        for (int i = 0; i < numbers.length; i++) {
            boolean first = i < SeenNumbers.CHUNK ? i < 100 : i < numbers.length - 1;
            assertThat(isNew[i]).as("number %d at %d", numbers[i], i).isEqualTo(first);
        }

        int[] again = new int[SeenNumbers.CHUNK + 1]; // a chunk of repeats, then a new number
        java.util.Arrays.fill(again, base + 1);
        again[SeenNumbers.CHUNK] = base + 9_999_999;
        boolean[] againNew = new boolean[again.length];
        assertThat(seen.addAll(again, 0, again.length, againNew)).isEqualTo(1);
        assertThat(againNew[SeenNumbers.CHUNK]).isTrue();
    }

    /** Five clients' batches of the same numbers at once: each number is new to exactly one of them. */
    @Test
    void exactlyOneOfFiveConcurrentBatchesWinsEachNumber() throws Exception {
        int writers = 5;
        int numbers = 3 * SeenNumbers.CHUNK * 20;
        int base = 800_000_000;
        CyclicBarrier start = new CyclicBarrier(writers);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<boolean[]>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                results.add(pool.submit(() -> {
                    int[] batch = new int[numbers];
                    for (int i = 0; i < numbers; i++) {
                        batch[i] = base + (writer % 2 == 0 ? i : numbers - 1 - i);
                    }
                    boolean[] isNew = new boolean[numbers];
                    start.await();
                    seen.addAll(batch, 0, numbers, isNew);
                    boolean[] won = new boolean[numbers];
                    for (int i = 0; i < numbers; i++) {
                        won[batch[i] - base] = isNew[i];
                    }
                    return won;
                }));
            }
            int[] wins = new int[numbers];
            for (Future<boolean[]> result : results) {
                boolean[] won = result.get();
                for (int i = 0; i < numbers; i++) {
                    wins[i] += won[i] ? 1 : 0;
                }
            }
            for (int i = 0; i < numbers; i++) {
                assertThat(wins[i]).as("winners of %d", base + i).isEqualTo(1);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rejectsNumbersOutsideTheRange() {
        assertThatThrownBy(() -> seen.add(-1)).isInstanceOf(ArrayIndexOutOfBoundsException.class);
        assertThatThrownBy(() -> seen.add(Integer.MAX_VALUE)).isInstanceOf(ArrayIndexOutOfBoundsException.class);
    }

    /**
     * Five writers add the same 200,000 numbers (in different orders, dense in a few words so
     * they collide on the same longs) at the same moment: exactly one add of each number wins.
     */
    @Test
    void exactlyOneOfFiveConcurrentWritersWinsEachNumber() throws Exception {
        int writers = 5;
        int numbers = 200_000;
        int base = 500_000_000;
        CyclicBarrier start = new CyclicBarrier(writers);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<boolean[]>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                Callable<boolean[]> task = () -> {
                    boolean[] won = new boolean[numbers];
                    start.await();
                    for (int i = 0; i < numbers; i++) {
                        int n = writer % 2 == 0 ? i : numbers - 1 - i;
                        won[n] = seen.add(base + n);
                    }
                    return won;
                };
                results.add(pool.submit(task));
            }
            int[] wins = new int[numbers];
            for (Future<boolean[]> result : results) {
                boolean[] won = result.get();
                for (int i = 0; i < numbers; i++) {
                    wins[i] += won[i] ? 1 : 0;
                }
            }
            for (int i = 0; i < numbers; i++) {
                assertThat(wins[i]).as("winners of %d", base + i).isEqualTo(1);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
