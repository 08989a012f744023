package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NumberLogTest {

    private static final byte[] LF = {'\n'};

    @TempDir
    Path dir;

    @Test
    void createTruncatesAnExistingFile() throws IOException {
        Path path = dir.resolve("numbers.log");
        Files.writeString(path, "left over from the last run\n");
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            assertThat(Files.size(path)).isZero();
        }
        assertThat(Files.readString(path)).isEmpty();
    }

    @Test
    void aLogThatIsNotARegularFileIsWrittenButNeverForced() throws IOException {
        Path devNull = Path.of("/dev/null");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(devNull), "no /dev/null here");
        try (NumberLog log = NumberLog.open(devNull, LF, FsyncPolicy.ALWAYS, UnaryOperator.identity())) {
            assertThat(log.store(ascii("1\n22\n"))).isZero();
            assertThat(log.fsyncCount()).isZero();
            assertThat(log.bytesWritten()).isEqualTo(5);
        }
    }

    @Test
    void aSecondLogOnTheSameFileIsRefusedAndTheFirstIsLeftIntact() throws IOException {
        Path path = dir.resolve("numbers.log");
        try (NumberLog first = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            first.store(ascii("1\n22\n"));
            assertThatThrownBy(() -> NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity()))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("locked by another process");
            assertThat(Files.readString(path)).isEqualTo("1\n22\n");
        }
        try (NumberLog again = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            assertThat(Files.size(path)).as("free again once closed, and truncated").isZero();
        }
    }

    @Test
    void aFifoIsWrittenInOrder() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo is not available here");
        CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return Files.readString(fifo);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        try (NumberLog log = NumberLog.open(fifo, LF, FsyncPolicy.ALWAYS, UnaryOperator.identity())) {
            assertThat(log.store(ascii("1\n22\n"))).isZero();
            assertThat(log.store(ascii("333\n"))).isZero();
        }
        assertThat(reader.get(5, TimeUnit.SECONDS)).isEqualTo("1\n22\n333\n");
    }

    @Test
    void appendsWholeBuffersInOrder() throws IOException {
        Path path = dir.resolve("numbers.log");
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            log.store(ascii("1\n22\n"));
            log.store(ascii("333\n"));
            assertThat(Files.readString(path)).isEqualTo("1\n22\n333\n");
        }
    }

    @Test
    void appendsManyPagesIntact() throws IOException {
        Path path = dir.resolve("numbers.log");
        StringBuilder expected = new StringBuilder();
        SplittableRandom random = new SplittableRandom(7);
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            for (int batch = 0; batch < 200; batch++) {
                StringBuilder lines = new StringBuilder();
                int count = random.nextInt(1, 2000);
                for (int i = 0; i < count; i++) {
                    lines.append(random.nextInt(1_000_000_000)).append('\n');
                }
                log.store(ascii(lines.toString()));
                expected.append(lines);
            }
        }
        assertThat(Files.readString(path)).isEqualTo(expected.toString());
    }

    @Test
    void aFailedWriteIsCutBackToWholeLinesAndRetriedFromThereUntilItWorks() throws Exception {
        Path path = dir.resolve("numbers.log");
        FaultyFileChannel channel = faulty(path);
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try (NumberLog log = NumberLog.over(new LogFile(path, channel, true), LF, FsyncPolicy.NEVER)) {
            log.store(ascii("1\n22\n"));
            channel.failAfter(7); // "333\n44" fits, then the disk is full: half of "4444\n"
            CompletableFuture<Long> stored = CompletableFuture.supplyAsync(() -> log.store(ascii("333\n4444\n55555\n")));
            await().until(() -> channel.failedWrites.get() >= 2); // failed, waited a second, failed again
            assertThat(log.isFailing()).isTrue();
            assertThat(stored).isNotDone();
            assertThat(Files.readString(path)).isEqualTo("1\n22\n333\n"); // whole lines only, even now
            channel.heal();
            assertThat(stored.get(5, TimeUnit.SECONDS)).as("lines not written").isZero();
            assertThat(log.isFailing()).isFalse();
            assertThat(Files.readString(path)).isEqualTo("1\n22\n333\n4444\n55555\n");
        } finally {
            diagnostics.close();
        }
        List<String> lines = diagnostics.lines();
        assertThat(lines).filteredOn(l -> l.contains("ERROR")).singleElement().asString()
                .contains("cannot write " + path + ": No space left on device");
        assertThat(lines).filteredOn(l -> l.contains("again after")).hasSize(1);
    }

    @Test
    void abandonedRetriesCountTheNumbersNotWritten() throws Exception {
        Path path = dir.resolve("numbers.log");
        FaultyFileChannel channel = faulty(path);
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try (NumberLog log = NumberLog.over(new LogFile(path, channel, true), LF, FsyncPolicy.NEVER)) {
            log.store(ascii("1\n"));
            channel.failAfter(3); // "22\n" fits
            CompletableFuture<Long> stored = CompletableFuture.supplyAsync(() -> log.store(ascii("22\n333\n4444\n")));
            await().until(log::isFailing);
            log.abandonRetries();
            assertThat(stored.get(5, TimeUnit.SECONDS)).as("lines not written").isEqualTo(2);
            assertThat(log.unwrittenNumbers()).isEqualTo(2);
            assertThat(log.store(ascii("55555\n"))).as("after abandoning, one attempt only").isEqualTo(1);
            assertThat(log.unwrittenNumbers()).isEqualTo(3);
            assertThat(Files.readString(path)).isEqualTo("1\n22\n");
            assertThat(log.lastFailure()).isEqualTo("No space left on device");
            channel.heal();
        } finally {
            diagnostics.close();
        }
    }

    @Test
    void linesWrittenBeforeAnAbandonedFailureAreStillForcedAtClose() throws Exception {
        Path path = dir.resolve("numbers.log");
        FaultyFileChannel channel = faulty(path);
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try {
            NumberLog log = NumberLog.over(new LogFile(path, channel, true), LF, FsyncPolicy.NEVER);
            channel.failAfter(3); // "22\n" fits, then the disk is full
            CompletableFuture<Long> stored = CompletableFuture.supplyAsync(() -> log.store(ascii("22\n333\n")));
            await().until(log::isFailing);
            log.abandonRetries();
            assertThat(stored.get(5, TimeUnit.SECONDS)).isEqualTo(1);
            int forcesBefore = channel.forces.get();
            log.close();
            assertThat(channel.forces.get()).as("the close forced the line that was written").isEqualTo(forcesBefore + 1);
            assertThat(Files.readString(path)).isEqualTo("22\n");
        } finally {
            diagnostics.close();
        }
    }

    @Test
    void aFailingIntervalFsyncShowsAsFailingUntilItWorks() throws Exception {
        Path path = dir.resolve("numbers.log");
        FaultyFileChannel channel = faulty(path);
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try (NumberLog log = NumberLog.over(new LogFile(path, channel, true), LF, FsyncPolicy.INTERVAL)) {
            log.startSync(Threads.named("test-fsync"));
            channel.failForce(true);
            log.store(ascii("1\n"));
            await().atMost(Duration.ofSeconds(5)).until(log::isFailing);
            channel.heal();
            log.store(ascii("2\n"));
            await().atMost(Duration.ofSeconds(5)).until(() -> !log.isFailing());
        } finally {
            diagnostics.close();
        }
        assertThat(diagnostics.text())
                .contains("cannot force " + path + " to disk: Input/output error")
                .contains("could force " + path + " to disk again after");
    }

    @Test
    void fsyncAlwaysForcesEveryBatchBeforeItReturns() throws Exception {
        Path path = dir.resolve("numbers.log");
        FaultyFileChannel channel = faulty(path);
        try (NumberLog log = NumberLog.over(new LogFile(path, channel, true), LF, FsyncPolicy.ALWAYS)) {
            log.store(ascii("1\n"));
            assertThat(channel.forces.get()).isEqualTo(1);
            log.store(ascii("2\n"));
            assertThat(channel.forces.get()).isEqualTo(2);
            assertThat(log.fsyncCount()).isEqualTo(2);
        }
    }

    @Test
    void fsyncIntervalForcesWithinASecondAndNeverForcesOnlyAtClose() throws Exception {
        Path intervalPath = dir.resolve("interval.log");
        FaultyFileChannel interval = faulty(intervalPath);
        Path neverPath = dir.resolve("never.log");
        FaultyFileChannel never = faulty(neverPath);
        try (NumberLog intervalLog = NumberLog.over(new LogFile(intervalPath, interval, true), LF, FsyncPolicy.INTERVAL);
             NumberLog neverLog = NumberLog.over(new LogFile(neverPath, never, true), LF, FsyncPolicy.NEVER)) {
            intervalLog.startSync(Threads.named("test-fsync"));
            intervalLog.store(ascii("1\n"));
            neverLog.store(ascii("1\n"));
            assertThat(interval.forces.get()).isZero();
            await().atMost(Duration.ofSeconds(3)).until(() -> interval.forces.get() == 1);
            Thread.sleep(1_200);
            assertThat(interval.forces.get()).as("nothing new to force").isEqualTo(1);
            assertThat(never.forces.get()).isZero();
        }
        assertThat(never.forces.get()).as("close forces whatever the policy").isEqualTo(1);
    }

    private static FaultyFileChannel faulty(Path path) throws IOException {
        return new FaultyFileChannel(FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ));
    }

    /** A batch of many pages goes to the file in one write (the page-at-a-time writes are gone). */
    @Test
    void aBatchOfManyPagesIsOneWrite() throws Exception {
        Path path = dir.resolve("numbers.log");
        FaultyFileChannel channel = faulty(path);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            lines.append(100_000_000 + i * 37).append('\n');
        }
        try (NumberLog log = NumberLog.over(new LogFile(path, channel, true), LF, FsyncPolicy.NEVER)) {
            log.store(ascii("7\n"));
            int before = channel.writes.get();
            log.store(ascii(lines.toString()));
            assertThat(channel.writes.get() - before).isEqualTo(1);
        }
        assertThat(Files.readString(path)).isEqualTo("7\n" + lines);
    }

    private static ByteBuffer ascii(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
        buffer.put(bytes).flip();
        return buffer;
    }
}
