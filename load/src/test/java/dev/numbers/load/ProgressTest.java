package dev.numbers.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void readingSaysMegabytesOfTheLogAndTheShare() {
        assertThat(Progress.reading(() -> 512_000_000L, 941_000_000L).get()).isEqualTo("verify: read 512 MB of 941 MB (54%)");
    }

    @Test
    void listingSaysNumbersOfTheRunAndTheShare() {
        assertThat(Progress.listing(() -> 40_000_000L, 100_000_000L).get())
                .isEqualTo("verify: listed 40,000,000 of 100,000,000 numbers sent (40%)");
    }

    @Test
    void sharesRoundDownSoThatOneHundredPercentMeansDone() {
        assertThat(Progress.reading(() -> 999L, 1000L).get()).endsWith("(99%)");
        assertThat(Progress.reading(() -> 0L, 0L).get()).endsWith("(100%)");
    }

    @Test
    void onATerminalRedrawsOneLineBlankingWhatAShorterOneLeavesAndEndsItOnClose() {
        StringWriter text = new StringWriter();
        AtomicInteger calls = new AtomicInteger();
        Supplier<String> line = () -> calls.getAndIncrement() == 0 ? "long line" : "short";
        try (Progress progress = new Progress(new PrintWriter(text), line, true)) {
            progress.start();
            await().until(() -> text.toString().contains("\rshort"));
        }
        assertThat(text.toString()).startsWith("\rlong line\rshort    \r").endsWith("\rshort\n");
    }

    @Test
    void elsewherePrintsWholeLinesAndNothingMoreOnClose() {
        StringWriter text = new StringWriter();
        try (Progress progress = new Progress(new PrintWriter(text), () -> "verify: read 1 MB of 2 MB (50%)", false)) {
            progress.start();
            await().until(() -> text.toString().contains("\n"));
        }
        assertThat(text.toString()).doesNotContain("\r").endsWith("\n");
        assertThat(text.toString().lines()).allMatch(l -> l.equals("verify: read 1 MB of 2 MB (50%)"));
    }
}
