package dev.numbers.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The decoder on one full read buffer of valid lines: the SWAR {@link LineDecoder} against a
 * plain byte-at-a-time loop with the same contract, and against the same SWAR steps on a heap
 * array (faster to decode, but the socket reads into a direct buffer, so a heap array costs a
 * copy of every byte first). Time per line.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class DecoderBenchmark {

    private static final int LINES = SessionBuffers.READ_BUFFER_BYTES / 10;

    private final LineDecoder decoder = new LineDecoder(new byte[] {'\n'});
    private final int[] numbers = new int[LINES + 1];
    private ByteBuffer in;
    private int length;

    @Setup
    public void fill() {
        SplittableRandom random = new SplittableRandom(42);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < LINES; i++) {
            text.append(String.format("%09d\n", random.nextInt(1_000_000_000)));
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.US_ASCII);
        in = LineDecoder.allocateBuffer(bytes.length);
        in.put(bytes);
        length = bytes.length;
        heap = new byte[length + LineDecoder.SLACK_BYTES];
        in.get(0, heap, 0, length);
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public int swar() {
        return decoder.decodeNumbers(in, 0, length, numbers);
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private byte[] heap;


    /** The same SWAR steps on a heap array through a VarHandle view (needs a copy out of the socket's direct buffer). */
    @Benchmark
    @OperationsPerInvocation(LINES)
    public int swarHeap() {
        int count = 0;
        for (int pos = 0; pos <= length - 10; pos += 10) {
            long head = (long) LONGS.get(heap, pos) - 0x3030_3030_3030_3030L;
            long tail = (long) LONGS.get(heap, pos + 2) - 0x0A30_3030_3030_3030L;
            long bad = ((head | (head + 0x7676_7676_7676_7676L)) & 0x8080_8080_8080_8080L)
                    | ((tail | (tail + 0x0076_7676_7676_7676L)) & 0xFF80_8080_8080_8080L);
            if (bad != 0) {
                break;
            }
            numbers[count++] = LineDecoder.parseEightDigits(head) * 10 + ((int) (tail >>> 48) & 0xFF);
        }
        return count;
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public int naive() {
        return naiveDecode(in, 0, length, numbers);
    }

    /** The obvious loop: each byte checked and accumulated, then the newline. */
    static int naiveDecode(ByteBuffer buf, int from, int to, int[] out) {
        int count = 0;
        for (int pos = from; pos + 10 <= to; pos += 10) {
            int value = 0;
            int i = 0;
            for (; i < 9; i++) {
                int digit = buf.get(pos + i) - '0';
                if (digit < 0 || digit > 9) {
                    break;
                }
                value = value * 10 + digit;
            }
            if (i < 9 || buf.get(pos + 9) != '\n') {
                break;
            }
            out[count++] = value;
        }
        return count;
    }
}
