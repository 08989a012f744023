package dev.numbers.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The diagnostics never wait for stderr: a stream that blocks costs lines, counted, never a caller's time. */
class DiagnosticsTest {

    @AfterEach
    void backToStderr() {
        Diagnostics.configure(null, false);
    }

    @Test
    @Timeout(60) // a caller that waits for the stuck stream waits forever
    void aStderrThatBlocksCostsLinesNeverTheCallersTime() throws Exception {
        StuckStream stderr = new StuckStream();
        Diagnostics.configure(stderr, false);
        long droppedBefore = Diagnostics.droppedLines();
        Diagnostics.info("the first line, which the writer thread is stuck writing");
        assertThat(stderr.firstWrite.await(5, TimeUnit.SECONDS)).isTrue();
        int lines = Diagnostics.QUEUE_LINES + 100;
        for (int i = 0; i < lines; i++) {
            Diagnostics.warn("line " + i); // would block at once if written in the caller's thread
        }
        assertThat(Diagnostics.droppedLines() - droppedBefore).as("beyond the queue, dropped and counted").isEqualTo(100);
        assertThat(Diagnostics.awaitWritten(100)).as("the wait for the last lines is bounded").isFalse();
        stderr.unblock();
        assertThat(Diagnostics.awaitWritten(10_000)).isTrue();
        assertThat(stderr.text()).contains("line 0\n", "line " + (Diagnostics.QUEUE_LINES - 1) + "\n")
                .doesNotContain("line " + Diagnostics.QUEUE_LINES + "\n")
                .contains("WARN  100 diagnostic lines were dropped: stderr did not take them in time");
    }

    @Test
    void connectionLinesAreBoundedAndTheRestCountedOnceASecond() {
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Diagnostics.configure(stderr, false);
        for (int i = 0; i < 1_000; i++) {
            Diagnostics.client("client " + i + " ended after 1 numbers");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> stderr.toString(StandardCharsets.UTF_8).contains("not shown"));
        Diagnostics.awaitWritten(5_000);
        String text = stderr.toString(StandardCharsets.UTF_8);
        long shown = text.lines().filter(l -> l.contains(" ended after 1 numbers")).count();
        assertThat(shown).isLessThanOrEqualTo(2L * Diagnostics.CLIENT_LINES_PER_SECOND); // a second may roll over once
        assertThat(text).containsPattern("INFO  \\d+ more connection lines in the last second not shown \\(at most "
                + Diagnostics.CLIENT_LINES_PER_SECOND + " a second\\)");
        long hidden = text.lines().filter(l -> l.contains("not shown"))
                .mapToLong(l -> Long.parseLong(l.replaceAll(".*INFO  (\\d+) more.*", "$1"))).sum();
        assertThat(shown + hidden).as("every line shown or counted").isEqualTo(1_000);
    }

    @Test
    void quietKeepsWarningsAndErrorsAndDropsConnectionLines() {
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Diagnostics.configure(stderr, true);
        Diagnostics.info("an info");
        Diagnostics.client("a client");
        Diagnostics.warn("a warning");
        Diagnostics.error("an error");
        Diagnostics.plain("numbers-server: a plain line");
        assertThat(Diagnostics.awaitWritten(5_000)).isTrue();
        assertThat(stderr.toString(StandardCharsets.UTF_8).lines().toList()).hasSize(3)
                .anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z WARN  a warning"))
                .anyMatch(l -> l.endsWith("ERROR an error"))
                .contains("numbers-server: a plain line");
    }
}
