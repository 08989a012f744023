package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.numbers.server.ServerUnderTest.CLOSE_TIMEOUT;
import static dev.numbers.server.ServerUnderTest.EXIT_TIMEOUT;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Durability: a full disk and kill -9 under load, against the packaged server. */
class DurabilityIT {

    /** Numbers a client sends into a filling disk: 15 MB, more than TCP buffers hold, so it is held. */
    private static final int NUMBERS = 1_500_000;

    @TempDir
    Path dir;

    private Path mounted;
    /** Threads of the test's own clients (the common pool runs one task at a time on 2 cores). */
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void unmount() throws Exception {
        threads.shutdownNow();
        if (mounted != null) {
            run("umount", "-l", mounted.toString());
        }
    }

    /**
     * The disk fills up under the server: it says so, holds the client, keeps running, and once
     * space is freed writes every number exactly once, and says that too.
     */
    @Test
    void aFullDiskHoldsClientsUntilSpaceIsFreedAndLosesNothing() throws Exception {
        Path disk = smallTmpfs();
        try (PackagedServer server = PackagedServer.start(disk)) {
            Path filler = fillLeaving(disk, 16 * 1024);
            Set<String> sent = new HashSet<>();
            TestClient client = server.connect();
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> sendNumbers(client, sent), threads);
            await().atMost(Duration.ofSeconds(20)).until(() -> server.stderr.stream().anyMatch(l -> l.contains("ERROR")));
            assertThat(server.stderr).filteredOn(l -> l.contains("ERROR")).singleElement().asString()
                    .contains("cannot write").contains("No space left on device");
            assertThat(sending).as("the client is held back").isNotDone();
            assertThat(server.process.isAlive()).isTrue();
            assertWholeDistinctLines(server.log());

            Files.delete(filler);
            await().atMost(Duration.ofSeconds(20)).until(() -> server.stderr.stream().anyMatch(l -> l.contains("again after")));
            sending.get(30, TimeUnit.SECONDS);
            client.finish().awaitClosedByServer(CLOSE_TIMEOUT);
            client.close();
            try (TestClient terminator = server.connect()) {
                terminator.send("terminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            List<String> lines = assertWholeDistinctLines(server.log());
            assertThat(new HashSet<>(lines)).isEqualTo(sent);
        }
    }

    /** Stopping while the disk is still full: exit status 3, and how many numbers are missing. */
    @ParameterizedTest
    @ValueSource(strings = {"terminate", "TERM"})
    void stoppingWhileTheDiskIsFullExitsThreeAndCountsWhatIsMissing(String how) throws Exception {
        Path disk = smallTmpfs();
        try (PackagedServer server = PackagedServer.start(disk)) {
            fillLeaving(disk, 16 * 1024);
            Set<String> sent = new HashSet<>();
            TestClient client = server.connect();
            CompletableFuture.runAsync(() -> sendNumbers(client, sent), threads);
            await().atMost(Duration.ofSeconds(20)).until(() -> server.stderr.stream().anyMatch(l -> l.contains("ERROR")));
            if (how.equals("terminate")) {
                try (TestClient terminator = server.connect()) {
                    terminator.send("terminate\n");
                    assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(3);
                }
            } else {
                server.signal(how);
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(3);
            }
            client.close();
            assertThat(server.stderr).anyMatch(l -> l.matches(".*ERROR +[1-9][0-9]* numbers were accepted but could not be written to numbers.log \\(No space left on device\\)"));
            List<String> lines = assertWholeDistinctLines(server.log());
            assertThat(missingFrom(sent, lines)).as("lines that were never sent").isEmpty();
        }
    }

    /**
     * {@code kill -9} while four clients keep sending: every number of the clients that had
     * finished (sent, half-closed, saw the server close) is in the log, once, whole. A kill
     * during a write may leave the log's last line incomplete (docs/durability.md): a reader drops
     * it, and so does this test; every complete line must be a number, once.
     */
    @Test
    void killNineUnderLoadKeepsEverythingConsumed() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            AtomicBoolean loading = new AtomicBoolean(true);
            List<CompletableFuture<Void>> background = new ArrayList<>();
            for (int c = 0; c < 4; c++) { // the fifth slot is for the finishing clients, one at a time
                int base = c * 100;
                background.add(CompletableFuture.runAsync(() -> repeatUntilStopped(server.port(), base, loading), threads));
            }
            Set<String> consumed = new HashSet<>();
            for (int round = 0; round < 20; round++) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < 5_000; i++) {
                    int n = 500_000_000 + round * 5_000 + i;
                    text.append(n).append('\n');
                    consumed.add(Integer.toString(n));
                }
                try (TestClient client = server.connect()) {
                    client.send(text.toString()).finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
            }
            server.signal("KILL");
            server.awaitExit(EXIT_TIMEOUT);
            loading.set(false);
            for (CompletableFuture<Void> f : background) {
                f.get(10, TimeUnit.SECONDS);
            }
            List<String> lines = completeDistinctLines(server.log());
            assertThat(missingFrom(new HashSet<>(lines), consumed)).as("consumed numbers missing from the log").isEmpty();
        }
    }

    private static void repeatUntilStopped(int port, int base, AtomicBoolean loading) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            text.append(String.format("%09d\n", base + i));
        }
        byte[] batch = text.toString().getBytes(StandardCharsets.US_ASCII);
        try (TestClient client = TestClient.connect(port)) {
            while (loading.get()) {
                client.send(batch);
            }
        } catch (IOException e) {
            // The server was killed under us: the point of the test.
        }
    }

    private static void sendNumbers(TestClient client, Set<String> sent) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < NUMBERS; i++) {
            int n = 100_000_000 + i * 397;
            text.append(n).append('\n');
            synchronized (sent) {
                sent.add(Integer.toString(n));
            }
        }
        try {
            client.send(text.toString());
        } catch (IOException e) {
            throw new IllegalStateException("sending failed", e);
        }
    }

    /** The items not in {@code set} (AssertJ's containsAll is quadratic on these sizes). */
    private static List<String> missingFrom(Set<String> set, Iterable<String> items) {
        List<String> missing = new ArrayList<>();
        for (String item : items) {
            if (!set.contains(item)) {
                missing.add(item);
            }
        }
        return missing;
    }

    /** The log ends with a newline (or is empty), and every line is a distinct number. */
    private static List<String> assertWholeDistinctLines(Path log) throws IOException {
        String content = Files.readString(log, StandardCharsets.US_ASCII);
        if (!content.isEmpty()) {
            assertThat(content).endsWith("\n");
        }
        return completeDistinctLines(log);
    }

    /** The log's complete lines, as a reader after a crash takes them (an incomplete last line dropped), all distinct numbers. */
    private static List<String> completeDistinctLines(Path log) throws IOException {
        String content = Files.readString(log, StandardCharsets.US_ASCII);
        List<String> lines = content.substring(0, content.lastIndexOf('\n') + 1).lines().toList();
        assertThat(lines).allMatch(l -> l.matches("0|[1-9][0-9]{0,8}")).doesNotHaveDuplicates();
        return lines;
    }

    /** A 32 MiB tmpfs to fill up; skips the test where mounting is not permitted (not root). */
    private Path smallTmpfs() throws Exception {
        Path disk = Files.createDirectory(dir.resolve("disk"));
        String failure = run("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", disk.toString());
        Skip.unless(failure == null, "cannot mount a tmpfs here (it needs root): " + failure);
        mounted = disk;
        return disk;
    }

    /** Fills the disk until {@code free} bytes are left; returns the filler file. */
    private static Path fillLeaving(Path disk, long free) throws IOException {
        Path filler = disk.resolve("filler");
        long size = Files.getFileStore(disk).getUsableSpace() - free;
        try (FileChannel channel = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer block = ByteBuffer.allocate(4096);
            for (long written = 0; written < size; written += 4096) {
                block.clear();
                channel.write(block);
            }
        }
        return filler;
    }

    /** Runs a command; returns null on success, else what it said. */
    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return process.waitFor() == 0 ? null : command[0] + " exited " + process.exitValue() + ": " + output;
    }
}
