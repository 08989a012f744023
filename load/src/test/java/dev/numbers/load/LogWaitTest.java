package dev.numbers.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogWaitTest {

    private static final String NEWLINE = new String(Workload.NEWLINE, StandardCharsets.US_ASCII);
    private static final long SHORT_STALL_NS = TimeUnit.MILLISECONDS.toNanos(200);
    /** 5 and 123456789: stripped "5" and "123456789", padded "000000005" and "123456789". */
    private static final long[] FIVE_AND_A_NINE_DIGIT_ONE = set(5, 123_456_789);

    @TempDir
    Path dir;

    @Test
    void sizesCountEachNumbersDigitsStrippedAndNineDigitsPadded() {
        LogWait.Expected expected = LogWait.Expected.of(set(0, 9, 10, 99, 100, 99_999_999, 100_000_000, 999_999_999),
                Workload.NEWLINE);

        assertThat(expected.numbers()).isEqualTo(8);
        assertThat(expected.strippedBytes()).isEqualTo(1 + 1 + 2 + 2 + 3 + 8 + 9 + 9 + 8L * Workload.NEWLINE.length);
        assertThat(expected.paddedBytes()).isEqualTo(8L * (9 + Workload.NEWLINE.length));
    }

    @Test
    void returnsOnACompleteLogOfEitherFormat() {
        LogWait.Expected expected = LogWait.Expected.of(FIVE_AND_A_NINE_DIGIT_ONE, Workload.NEWLINE);

        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            wait(log("123456789", "5"), expected);
            wait(log("123456789", "000000005"), expected);
        });
    }

    @Test
    void aPaddedLogOnItsWayThroughTheStrippedSizeIsNotComplete() throws IOException {
        LogWait.Expected expected = LogWait.Expected.of(FIVE_AND_A_NINE_DIGIT_ONE, Workload.NEWLINE);
        // The stripped size, reached by a padded log halfway through its second line.
        String halfway = "123456789" + NEWLINE + "00";
        assertThat((long) halfway.length()).isEqualTo(expected.strippedBytes());
        Path log = Files.writeString(dir.resolve("numbers.log"), halfway, StandardCharsets.US_ASCII);

        assertThatThrownBy(() -> wait(log, expected)).isInstanceOf(LogWait.Incomplete.class);
    }

    @Test
    void aLogThatStopsGrowingShortOfItsSizeSaysWhatItHasAndWhatItLacks() throws IOException {
        Path log = log("5");

        assertThatThrownBy(() -> wait(log, LogWait.Expected.of(FIVE_AND_A_NINE_DIGIT_ONE, Workload.NEWLINE)))
                .isInstanceOf(LogWait.Incomplete.class)
                .hasMessage("the log " + log + " has " + (1 + NEWLINE.length()) + " bytes and has not grown for 0.2 s, "
                        + "but the 2 unique numbers sent take " + (10 + 2 * NEWLINE.length()) + " bytes stripped or "
                        + (18 + 2 * NEWLINE.length()) + " padded: the server lost some");
    }

    @Test
    void aLogLargerThanBothSizesFailsAtOnce() throws IOException {
        Path log = log("123456789", "5", "6");

        assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
                assertThatThrownBy(() -> new LogWait(log, LogWait.Expected.of(set(5), Workload.NEWLINE), Workload.NEWLINE,
                        Long.MAX_VALUE).await())
                        .isInstanceOf(LogWait.Incomplete.class)
                        .hasMessageStartingWith("the log " + log + " has ")
                        .hasMessageEndingWith(", more than the 1 unique numbers sent take (" + (1 + NEWLINE.length())
                                + " bytes stripped or " + (9 + NEWLINE.length()) + " padded): it holds numbers not sent, or twice"));
    }

    @Test
    void aMissingLogIsAnIoError() {
        assertThatThrownBy(() -> wait(dir.resolve("missing.log"), LogWait.Expected.of(set(5), Workload.NEWLINE)))
                .isInstanceOf(NoSuchFileException.class);
    }

    private void wait(Path log, LogWait.Expected expected) throws Exception {
        new LogWait(log, expected, Workload.NEWLINE, SHORT_STALL_NS).await();
    }

    private Path log(String... lines) throws IOException {
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            text.append(line).append(NEWLINE);
        }
        return Files.writeString(dir.resolve("numbers.log"), text, StandardCharsets.US_ASCII);
    }

    private static long[] set(int... numbers) {
        long[] set = new long[(Arrays.stream(numbers).max().orElse(0) >>> 6) + 1];
        for (int n : numbers) {
            set[n >>> 6] |= 1L << n;
        }
        return set;
    }
}
