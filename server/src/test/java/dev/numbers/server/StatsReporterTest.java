package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StatsReporterTest {

    @Test
    void formatsExactlyAsTheSpecificationShows() {
        assertThat(StatsReporter.format(50, 2, 567_231))
                .isEqualTo("Received 50 unique numbers, 2 duplicates. Unique total: 567231");
    }

    @Test
    void reportsDifferencesSinceThePreviousReportAndTheRunningTotal() {
        Stats stats = new Stats();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StatsReporter reporter = new StatsReporter(stats, new PrintStream(bytes, true, StandardCharsets.UTF_8), java.time.Duration.ofSeconds(10));
        stats.recordBatch(50, 2);
        reporter.run();
        stats.recordBatch(7, 0);
        stats.recordBatch(3, 5);
        reporter.run();
        reporter.run();
        assertThat(bytes.toString(StandardCharsets.UTF_8).lines()).containsExactly(
                "Received 50 unique numbers, 2 duplicates. Unique total: 50",
                "Received 10 unique numbers, 5 duplicates. Unique total: 60",
                "Received 0 unique numbers, 0 duplicates. Unique total: 60");
    }

    /** A stdout that no longer takes lines (a closed pipe) is said once on stderr, not at every report. */
    @Test
    void saysOnceThatStdoutStoppedTakingTheReports() {
        CapturedDiagnostics said = CapturedDiagnostics.capture();
        try {
            java.io.OutputStream closedPipe = new java.io.OutputStream() {
                @Override
                public void write(int b) throws java.io.IOException {
                    throw new java.io.IOException("Broken pipe");
                }
            };
            StatsReporter reporter = new StatsReporter(new Stats(), new PrintStream(closedPipe, true, StandardCharsets.UTF_8), java.time.Duration.ofSeconds(10));
            reporter.run();
            reporter.run();
        } finally {
            said.close();
        }
        assertThat(said.lines()).singleElement().asString()
                .contains("WARN  stdout does not take the report lines");
    }

    // The schedule: fixed, never drifting, and after a pause it skips the ticks it missed.

    private static final long START = 1_000;
    private static final long INTERVAL = 100;

    @Test
    void aReportOnTimeOrSlowHasTheNextTickNext() {
        assertThat(StatsReporter.nextTick(START, INTERVAL, 1_100)).as("on time").isEqualTo(1_200);
        assertThat(StatsReporter.nextTick(START, INTERVAL, 1_130)).as("printing took 30").isEqualTo(1_200);
        assertThat(StatsReporter.nextTick(START, INTERVAL, 1_199)).isEqualTo(1_200);
        assertThat(StatsReporter.nextTick(START, INTERVAL, START)).as("the first").isEqualTo(1_100);
    }

    @Test
    void afterAPauseTheTicksItMissedAreSkipped() {
        assertThat(StatsReporter.nextTick(START, INTERVAL, 4_550)).as("35 ticks missed: the next is the first after now").isEqualTo(4_600);
        assertThat(StatsReporter.nextTick(START, INTERVAL, 4_600)).isEqualTo(4_700);
    }

    @Test
    void worksAcrossTheWrapOfNanoTime() {
        long start = Long.MAX_VALUE - 150;
        assertThat(StatsReporter.nextTick(start, INTERVAL, start + 120)).isEqualTo(start + 200); // past Long.MAX_VALUE: wraps, as nanoTime does
    }
}
