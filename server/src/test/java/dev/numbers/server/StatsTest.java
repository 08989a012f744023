package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StatsTest {

    private final Stats stats = new Stats();

    @Test
    void countsBatchesAndClients() {
        stats.recordBatch(5, 2);
        stats.recordBatch(0, 3);
        stats.recordBatch(1, 0);
        stats.clientConnected();
        stats.clientConnected();
        stats.clientDisconnected();
        stats.invalidInputClosed();
        assertThat(stats.uniqueTotal()).isEqualTo(6);
        assertThat(stats.duplicateTotal()).isEqualTo(5);
        assertThat(stats.connectedClients()).isEqualTo(1);
        assertThat(stats.invalidClosed()).isEqualTo(1);
    }

    /** The rate is what arrived since the previous sample, unique and duplicate together. */
    @Test
    void theRateIsTheNumbersSinceTheLastSample() {
        stats.recordBatch(10, 5);
        stats.sampleRate();
        assertThat(stats.ratePerSecond()).isEqualTo(15);
        stats.recordBatch(3, 4);
        stats.sampleRate();
        assertThat(stats.ratePerSecond()).isEqualTo(7);
        stats.sampleRate();
        assertThat(stats.ratePerSecond()).isZero();
    }

    @Test
    void uptimeGrowsFromTheStart() throws InterruptedException {
        long first = stats.uptimeNanos();
        Thread.sleep(5); // uptime must move on: any pause will do
        assertThat(first).isNotNegative();
        assertThat(stats.uptimeNanos()).isGreaterThan(first);
    }
}
