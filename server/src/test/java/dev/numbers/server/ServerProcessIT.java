package dev.numbers.server;

import static dev.numbers.server.ServerUnderTest.CLOSE_TIMEOUT;
import static dev.numbers.server.ServerUnderTest.EXIT_TIMEOUT;
import static dev.numbers.server.ServerUnderTest.REPORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The packaged server while it runs and as it stops: signals, its streams, a crash. */
class ServerProcessIT {

    @TempDir
    Path dir;

    @Test
    void terminateExitsZeroWithEveryNumberInTheLog() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            try (TestClient client = server.connect()) {
                client.send("000000001\n000000002\n000000002\n");
                await().until(() -> server.logLines().size() == 2);
            }
            long sent;
            try (TestClient client = server.connect()) {
                client.send("000000003\nterminate\n");
                sent = System.nanoTime();
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            System.err.printf("terminate to exit (idle server, measured by the test): %d ms%n", (System.nanoTime() - sent) / 1_000_000);
            assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2", "3");
            assertThat(server.stderr).anyMatch(l -> l.contains("shutting down: terminate from"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT"})
    void aSignalRunsTheSameCleanShutdownAndIsNamed(String signal) throws Exception {
        try (PackagedServer server = PackagedServer.start(dir); TestClient client = server.connect()) {
            client.send("000000011\n000000012\n");
            await().until(() -> server.logLines().size() == 2);
            server.signal(signal);
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
            assertThat(server.logLines()).containsExactlyInAnyOrder("11", "12");
            assertThat(server.stderr).anyMatch(l -> l.endsWith("INFO  shutting down: SIG" + signal));
        }
    }

    /**
     * A FIFO as the log, with no reader yet: the server says it waits for one, and SIGTERM ends
     * the wait and the process (it used to wait silently, ignoring SIGTERM).
     */
    @Test
    void aSignalEndsTheWaitForAReaderOfAFifoLog() throws Exception {
        Process mkfifo = new ProcessBuilder("mkfifo", dir.resolve("numbers.log").toString()).start();
        Skip.unless(mkfifo.waitFor() == 0, "mkfifo is not available on this machine");
        try (PackagedServer server = PackagedServer.launch(dir, ServerUnderTest.defaultArgs().toArray(String[]::new))) {
            await().until(() -> server.stderr.stream().anyMatch(l -> l.contains("is a FIFO: waiting for a reader to open it")));
            server.signal("TERM");
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(server.diagnostics()).anyMatch(l -> l.endsWith("INFO  stopped before it started: SIGTERM"))
                    .noneMatch(l -> l.contains("started port="));
        }
    }

    @Test
    void stdoutCarriesOnlyReportLines() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--report-interval", "100ms", "--max-clients", "1")) {
            try (TestClient client = server.connect()) {
                client.send("000000001\n");
                await().until(() -> server.logLines().size() == 1);
                try (TestClient rejected = server.connect()) {
                    rejected.awaitClosedByServer(CLOSE_TIMEOUT);
                }
                client.send("bad line\n").awaitClosedByServer(CLOSE_TIMEOUT);
            }
            await().until(() -> server.stdout.size() >= 3);
            try (TestClient client = server.connect()) {
                client.send("terminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            assertThat(server.stdout).isNotEmpty().allMatch(l -> REPORT.matcher(l).matches());
            assertThat(server.stdout).anyMatch(l -> l.equals("Received 1 unique numbers, 0 duplicates. Unique total: 1"));
        }
    }

    /** kill -3 makes the JVM print a thread dump: on stderr, not among the reports (jvm/server.options). */
    @Test
    void aThreadDumpOnSigquitGoesToStderr() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--report-interval", "100ms")) {
            await().until(() -> !server.stdout.isEmpty());
            server.signal("QUIT");
            await().until(() -> server.stderr.stream().anyMatch(l -> l.startsWith("Full thread dump")));
            server.requestStop();
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(server.stdout).allMatch(l -> REPORT.matcher(l).matches());
        }
    }

    /**
     * A client that sent its numbers, half-closed, and saw the server close has had them
     * consumed: a kill -9 right after must find every one in the log, whole, once.
     */
    @Test
    void killNineLosesNothingTheServerConsumed() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            Set<String> expected = new HashSet<>();
            for (int c = 0; c < 5; c++) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < 20_000; i++) {
                    int n = (i * 7_919 + c * 104_729) % 1_000_000_000;
                    text.append(String.format("%09d\n", n));
                    expected.add(Integer.toString(n));
                }
                try (TestClient client = server.connect()) {
                    client.send(text.toString()).finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
            }
            server.signal("KILL");
            server.awaitExit(EXIT_TIMEOUT);
            String log = Files.readString(server.log());
            assertThat(log).endsWith("\n");
            List<String> lines = log.lines().toList();
            assertThat(lines).doesNotHaveDuplicates();
            assertThat(new HashSet<>(lines)).isEqualTo(expected);
        }
    }

    /**
     * Clients that connect while the server starts wait in the backlog; none is accepted before
     * the "started" line, so it is always the first line about the run.
     */
    @Test
    void startedIsTheFirstLineEvenWhenClientsAreWaiting() throws Exception {
        int port = NumberServerTest.freePort();
        AtomicBoolean connecting = new AtomicBoolean(true);
        CompletableFuture<Void> eager = CompletableFuture.runAsync(() -> {
            while (connecting.get()) {
                try (TestClient client = TestClient.connect(port)) {
                    client.send("000000001\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                } catch (IOException notYet) {
                    Thread.onSpinWait(); // not listening yet: try again at once
                }
            }
        });
        try (PackagedServer server = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", Integer.toString(port),
                "--admin-port", "0")) {
            await().until(() -> server.stderr.stream().anyMatch(l -> l.contains(" connected, ")));
            connecting.set(false);
            eager.get(10, TimeUnit.SECONDS);
            server.requestStop();
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            List<String> lines = server.diagnostics();
            assertThat(lines.get(0)).contains("INFO  started port=" + port);
        }
    }

    @Test
    void logsEveryEventThatMattersOnStderr() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--max-clients", "1")) {
            try (TestClient client = server.connect()) {
                client.send("000000001\n");
                await().until(() -> server.logLines().size() == 1);
                try (TestClient rejected = server.connect()) {
                    rejected.awaitClosedByServer(CLOSE_TIMEOUT);
                }
                client.finish().awaitClosedByServer(CLOSE_TIMEOUT);
            }
            try (TestClient client = server.connect()) {
                client.send("garbage\n").awaitClosedByServer(CLOSE_TIMEOUT);
            }
            try (TestClient client = server.connect()) {
                client.send("terminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            List<String> lines = server.diagnostics();
            assertThat(lines).allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (INFO |WARN |ERROR) .+"));
            assertThat(lines.get(0)).contains("INFO  started port=" + server.port())
                    .contains("log=" + dir.resolve("numbers.log").toRealPath())
                    .contains("max-clients=1").contains("log-format=stripped").contains("report-interval=10s")
                    .contains("fsync=interval").contains("idle-timeout=off").contains("admin-port=off")
                    .contains("metrics-port=off").contains("run-id=");
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ connected, 1 of 1"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ rejected: all 1 slots are busy"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ ended after 1 numbers"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ closed for invalid input after 0 numbers"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  shutting down: terminate from /127\\.0\\.0\\.1:\\d+"));
            assertThat(lines.get(lines.size() - 1)).endsWith("INFO  stopped: unique total 1, duplicates 0, exit status 0");
        }
    }

    @Test
    void quietKeepsOnlyWarningsAndErrors() throws Exception {
        int port = NumberServerTest.freePort();
        try (PackagedServer server = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", Integer.toString(port),
                "--admin-port", "0", "--quiet", "--idle-timeout", "100ms")) {
            TestClient silent = await().ignoreExceptions().until(() -> TestClient.connect(port), client -> true);
            assertThat(silent.awaitClosedByServer(CLOSE_TIMEOUT)).as("closed by the idle timeout, an INFO line").isEmpty();
            silent.close();
            server.requestStop();
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(server.diagnostics()).as("no INFO lines").noneMatch(l -> l.contains(" INFO "));
            assertThat(server.stdout).isEmpty();
        }
    }

    /** The churn of connections: rejected and served clients leave no file descriptor or thread behind. */
    @Test
    void clientsComingAndGoingLeaveTheServerAsItWas() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            long pid = server.process.pid();
            churn(server, 2); // every pool thread started, every lazy class loaded
            long filesBefore = openFiles(pid);
            long threadsBefore = ourThreads(pid);
            churn(server, 400);
            await().atMost(Duration.ofSeconds(10)).until(() -> openFiles(pid) == filesBefore && ourThreads(pid) == threadsBefore);
            assertThat(server.stderr).filteredOn(l -> l.contains("rejected")).hasSizeGreaterThanOrEqualTo(400);
        }
    }

    /** {@code rounds} times: 8 connections at once (5 served, 3 rejected), each sends a number. */
    private static void churn(PackagedServer server, int rounds) throws IOException {
        for (int r = 0; r < rounds; r++) {
            TestClient[] clients = new TestClient[8];
            for (int c = 0; c < clients.length; c++) {
                clients[c] = server.connect();
            }
            for (TestClient client : clients) {
                try {
                    client.send("000000001\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                } catch (IOException rejected) {
                    // A rejected client may see its write reset: closed unread, as it should be.
                }
                client.close();
            }
        }
    }

    private static long openFiles(long pid) throws IOException {
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.count();
        }
    }

    /** Threads of the process, without the JIT compiler threads the JVM adds and removes. */
    private static long ourThreads(long pid) throws IOException {
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.filter(task -> {
                try {
                    return !Files.readString(task.resolve("comm")).contains("Compiler");
                } catch (IOException gone) {
                    return false; // the thread ended while we looked
                }
            }).count();
        }
    }
}
