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
        StatsReporter reporter = new StatsReporter(stats, new PrintStream(bytes, true, StandardCharsets.UTF_8));
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
            StatsReporter reporter = new StatsReporter(new Stats(), new PrintStream(closedPipe, true, StandardCharsets.UTF_8));
            reporter.run();
            reporter.run();
        } finally {
            said.close();
        }
        assertThat(said.lines()).singleElement().asString()
                .contains("WARN  stdout does not take the report lines");
    }
}
