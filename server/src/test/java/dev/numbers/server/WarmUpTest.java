package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WarmUpTest {

    /** Given the time, it runs every batch, and hands the slot's buffers back empty. */
    @Test
    void runsTheLoopsAndLeavesTheBuffersAsItFoundThem() {
        LineDecoder decoder = new LineDecoder(new byte[] {'\n'});
        SessionBuffers buffers = new SessionBuffers(decoder.lineBytes());
        assertThat(WarmUp.run(decoder, LogFormat.STRIPPED, buffers, Long.MAX_VALUE / 2)).as("all of them, given the time")
                .isEqualTo(WarmUp.BATCHES);
        assertThat(buffers.in.position()).isZero();
        assertThat(buffers.in.limit()).isEqualTo(buffers.in.capacity());
        assertThat(buffers.out.position()).isZero();
        assertThat(buffers.out.limit()).isEqualTo(buffers.out.capacity());
    }

    /** The budget bounds it: with none left, it runs no batch (and the port opens at once). */
    @Test
    void stopsAtItsBudget() {
        LineDecoder decoder = new LineDecoder(new byte[] {'\n'});
        assertThat(WarmUp.run(decoder, LogFormat.STRIPPED, new SessionBuffers(decoder.lineBytes()), 0)).isZero();
    }
}
