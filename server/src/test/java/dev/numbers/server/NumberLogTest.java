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
    void aFifoIsRefusedAtOnceRatherThanWaitedOn() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo is not available here");
        CompletableFuture<Void> open = CompletableFuture.runAsync(() -> assertThatThrownBy(
                () -> NumberLog.open(fifo, LF, FsyncPolicy.NEVER, UnaryOperator.identity()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("is a FIFO; the log must be a regular file (or /dev/null)"), ServerUnderTest.THREAD_PER_TASK);
        open.get(5, TimeUnit.SECONDS); // an open of the FIFO for writing would wait here for a reader
    }

    /** logrotate's copytruncate empties the file in place: the next batch starts the file again, no hole of NULs. */
    @Test
    void aLogEmptiedInPlaceGoesOnWithoutAHole() throws IOException {
        Path path = dir.resolve("numbers.log");
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            log.store(ascii("1\n22\n"));
            try (FileChannel rotation = FileChannel.open(path, StandardOpenOption.WRITE)) {
                rotation.truncate(0); // : > numbers.log
            }
            log.store(ascii("333\n"));
            assertThat(Files.readString(path)).isEqualTo("333\n");
        }
    }

    @Test
    void aReopenAfterAMoveSendsTheNumbersFromThenOnToANewFileAtThePath() throws IOException {
        Path path = dir.resolve("numbers.log");
        Path rotated = dir.resolve("numbers.log.1");
        try (CapturedDiagnostics said = CapturedDiagnostics.capture();
             NumberLog log = NumberLog.open(path, LF, FsyncPolicy.INTERVAL, UnaryOperator.identity())) {
            log.store(ascii("1\n"));
            Files.move(path, rotated);
            log.store(ascii("22\n")); // before the reopen: still the open file, now numbers.log.1
            log.reopen();
            log.store(ascii("333\n"));
            assertThat(Files.readString(rotated)).isEqualTo("1\n22\n");
            assertThat(Files.readString(path)).isEqualTo("333\n");
            assertThat(log.bytesWritten()).isEqualTo(9);
            assertThat(said.text()).contains("reopened the log " + path);
        }
    }

    @Test
    void aReopenOfTheFileStillAtThePathChangesNothing() throws IOException {
        Path path = dir.resolve("numbers.log");
        try (CapturedDiagnostics said = CapturedDiagnostics.capture();
             NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            log.store(ascii("1\n"));
            log.reopen();
            log.store(ascii("22\n"));
            assertThat(Files.readString(path)).isEqualTo("1\n22\n");
            assertThat(said.text()).contains("is still the file being written; nothing to reopen");
        }
    }

    @Test
    void aReopenThatFailsIsSaidAndTheOpenFileIsStillWritten() throws IOException {
        Path path = dir.resolve("numbers.log");
        Path rotated = dir.resolve("numbers.log.1");
        try (CapturedDiagnostics said = CapturedDiagnostics.capture();
             NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            Files.move(path, rotated);
            Files.createDirectory(path); // the path can no longer be opened as a file
            log.reopen();
            log.store(ascii("1\n"));
            assertThat(Files.readString(rotated)).isEqualTo("1\n");
            assertThat(said.lines()).filteredOn(l -> l.contains("ERROR")).singleElement().asString()
                    .contains("cannot reopen the log " + path).contains("numbers go on to the file already open");
        }
    }

    @Test
    void aLogMovedOrDeletedWithoutAReopenIsSaidOnce() throws IOException {
        Path path = dir.resolve("numbers.log");
        try (CapturedDiagnostics said = CapturedDiagnostics.capture();
             NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            log.checkPath();
            Files.delete(path);
            log.checkPath();
            log.checkPath();
            log.reopen(); // a new file at the path
            log.checkPath();
            Files.move(path, dir.resolve("elsewhere.log"));
            log.checkPath();
            assertThat(said.lines()).filteredOn(l -> l.contains("was moved or deleted")).hasSize(2)
                    .allMatch(l -> l.contains("WARN") && l.contains("send SIGUSR1 to reopen the log at its path"));
        }
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
        Faulty channels = new Faulty();
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, channels)) {
            FaultyFileChannel channel = channels.channel;
            log.store(ascii("1\n22\n"));
            channel.failAfter(7); // "333\n44" fits, then the disk is full: half of "4444\n"
            CompletableFuture<Long> stored = CompletableFuture.supplyAsync(() -> log.store(ascii("333\n4444\n55555\n")), ServerUnderTest.THREAD_PER_TASK);
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
        Faulty channels = new Faulty();
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, channels)) {
            FaultyFileChannel channel = channels.channel;
            log.store(ascii("1\n"));
            channel.failAfter(3); // "22\n" fits
            CompletableFuture<Long> stored = CompletableFuture.supplyAsync(() -> log.store(ascii("22\n333\n4444\n")), ServerUnderTest.THREAD_PER_TASK);
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
        Faulty channels = new Faulty();
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try {
            NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, channels);
            FaultyFileChannel channel = channels.channel;
            channel.failAfter(3); // "22\n" fits, then the disk is full
            CompletableFuture<Long> stored = CompletableFuture.supplyAsync(() -> log.store(ascii("22\n333\n")), ServerUnderTest.THREAD_PER_TASK);
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
        Faulty channels = new Faulty();
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.INTERVAL, channels)) {
            FaultyFileChannel channel = channels.channel;
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

    /**
     * Writes and fsyncs fail and recover each on their own: with {@code always}, a write that
     * works while fsyncs fail says nothing, and an fsync failure is said once per episode.
     */
    @Test
    void writesAndFsyncsEachHaveTheirOwnFailureEpisode() throws Exception {
        Path path = dir.resolve("numbers.log");
        Faulty channels = new Faulty();
        CapturedDiagnostics diagnostics = CapturedDiagnostics.capture();
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.ALWAYS, channels)) {
            FaultyFileChannel channel = channels.channel;
            channel.failForce(true);
            CompletableFuture<Long> first = CompletableFuture.supplyAsync(() -> log.store(ascii("1\n")), ServerUnderTest.THREAD_PER_TASK);
            await().until(log::isFailing);
            CompletableFuture<Long> second = CompletableFuture.supplyAsync(() -> log.store(ascii("22\n")), ServerUnderTest.THREAD_PER_TASK); // its write works
            await().until(() -> Files.size(path) == 5);
            channel.heal();
            assertThat(first.get(5, TimeUnit.SECONDS)).isZero();
            assertThat(second.get(5, TimeUnit.SECONDS)).isZero();
            assertThat(log.isFailing()).isFalse();
        } finally {
            diagnostics.close();
        }
        List<String> lines = diagnostics.lines();
        assertThat(lines).filteredOn(l -> l.contains("cannot force")).singleElement().asString()
                .contains("ERROR cannot force " + path + " to disk: Input/output error; holding clients back");
        assertThat(lines).filteredOn(l -> l.contains("again after")).singleElement().asString()
                .contains("could force " + path + " to disk again");
    }

    @Test
    void fsyncAlwaysForcesEveryBatchBeforeItReturns() throws Exception {
        Path path = dir.resolve("numbers.log");
        Faulty channels = new Faulty();
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.ALWAYS, channels)) {
            FaultyFileChannel channel = channels.channel;
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
        Faulty intervalChannels = new Faulty();
        Path neverPath = dir.resolve("never.log");
        Faulty neverChannels = new Faulty();
        FaultyFileChannel never;
        try (NumberLog intervalLog = NumberLog.open(intervalPath, LF, FsyncPolicy.INTERVAL, intervalChannels);
             NumberLog neverLog = NumberLog.open(neverPath, LF, FsyncPolicy.NEVER, neverChannels)) {
            FaultyFileChannel interval = intervalChannels.channel;
            never = neverChannels.channel;
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

    /** What the log writes through: the file's channel as the log opened it, wrapped to fail on demand. */
    static final class Faulty implements UnaryOperator<FileChannel> {
        volatile FaultyFileChannel channel;

        @Override
        public FileChannel apply(FileChannel file) {
            channel = new FaultyFileChannel(file);
            return channel;
        }
    }

    /** A batch of many pages goes to the file in one write (the page-at-a-time writes are gone). */
    @Test
    void aBatchOfManyPagesIsOneWrite() throws Exception {
        Path path = dir.resolve("numbers.log");
        Faulty channels = new Faulty();
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            lines.append(100_000_000 + i * 37).append('\n');
        }
        try (NumberLog log = NumberLog.open(path, LF, FsyncPolicy.NEVER, channels)) {
            FaultyFileChannel channel = channels.channel;
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
