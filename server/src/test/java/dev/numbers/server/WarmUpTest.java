package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WarmUpTest {

    /** It runs, within its budget, and hands the slot's buffers back empty. */
    @Test
    void runsTheLoopsAndLeavesTheBuffersAsItFoundThem() {
        LineDecoder decoder = new LineDecoder(new byte[] {'\n'});
        SessionBuffers buffers = new SessionBuffers(decoder.lineBytes());
        long start = System.nanoTime();
        int batches = WarmUp.run(decoder, LogFormat.STRIPPED, buffers);
        long tookNanos = System.nanoTime() - start;
        assertThat(batches).isBetween(1, WarmUp.BATCHES);
        assertThat(tookNanos).isLessThan(WarmUp.BUDGET_NANOS + 100_000_000L); // one batch past the deadline at most
        assertThat(buffers.in.position()).isZero();
        assertThat(buffers.in.limit()).isEqualTo(buffers.in.capacity());
        assertThat(buffers.out.position()).isZero();
        assertThat(buffers.out.limit()).isEqualTo(buffers.out.capacity());
    }
}
