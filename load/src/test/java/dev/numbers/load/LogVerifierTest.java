package dev.numbers.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogVerifierTest {

    private static final int RANGE = 1_000_000;
    private static final String NEWLINE = new String(Workload.NEWLINE, StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    @Test
    void tellsHowManyBytesItHasReadAfterEachReadUpToTheWholeLog() throws IOException {
        int numbers = 300_000; // about 2 MB: more than one 1 MB read
        long[] expected = new long[(RANGE + 63) >>> 6];
        StringBuilder text = new StringBuilder();
        for (int n = 0; n < numbers; n++) {
            expected[n >>> 6] |= 1L << n;
            text.append(n).append(NEWLINE);
        }
        Path log = Files.writeString(dir.resolve("numbers.log"), text, StandardCharsets.US_ASCII);
        List<Long> told = new ArrayList<>();

        LogVerifier.Verdict verdict = LogVerifier.verify(log, expected, Workload.NEWLINE, told::add);

        assertThat(verdict.ok()).isTrue();
        assertThat(told).hasSizeGreaterThan(1).isSorted().doesNotHaveDuplicates();
        assertThat(told.get(0)).isPositive();
        assertThat(told.get(told.size() - 1)).isEqualTo(Files.size(log));
    }

    @Test
    void describesWhatIsWrongInTheWordsScriptsLookFor() throws IOException {
        long[] expected = new long[(RANGE + 63) >>> 6];
        for (int n : new int[] {1, 2, 3}) {
            expected[n >>> 6] |= 1L << n;
        }
        Path log = Files.writeString(dir.resolve("numbers.log"), "1" + NEWLINE + "2" + NEWLINE + "2" + NEWLINE,
                StandardCharsets.US_ASCII);

        LogVerifier.Verdict verdict = LogVerifier.verify(log, expected, Workload.NEWLINE, bytes -> { });

        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.describe()).isEqualTo("verify: FAILED: 3 expected, 2 found; missing 1, unexpected 0, "
                + "duplicated 1, malformed lines 0; for example duplicated 2, missing 3");
    }
}
