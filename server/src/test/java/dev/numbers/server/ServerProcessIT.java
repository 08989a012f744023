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

    @Test
    void stdoutCarriesOnlyReportLines() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--report-interval", "100ms", "--max-clients", "1")) {
            try (TestClient client = server.connect()) {
                client.send("000000001\n");
                await().until(() -> server.logLines().size() == 1);
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
        int port = ServerUnderTest.freePort();
        AtomicBoolean connecting = new AtomicBoolean(true);
        CompletableFuture<Void> eager = CompletableFuture.runAsync(() -> {
            while (connecting.get()) {
                try (TestClient client = TestClient.connect(port)) {
                    client.send("000000001\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                } catch (IOException notYet) {
                    Thread.onSpinWait(); // not listening yet: try again at once
                }
            }
        }, ServerUnderTest.THREAD_PER_TASK);
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
            try (TestClient client = server.connect(); TestClient waiting = server.connect()) {
                client.send("000000001\n");
                waiting.send("000000002\n").finish();
                await().until(() -> server.logLines().size() == 1);
                client.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                waiting.awaitClosedByServer(CLOSE_TIMEOUT); // served once the slot was free
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
            assertThat(lines).filteredOn(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ ended after 1 numbers")).hasSize(2);
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ closed for invalid input after 0 numbers"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  shutting down: terminate from /127\\.0\\.0\\.1:\\d+"));
            assertThat(lines.get(lines.size() - 1)).endsWith("INFO  stopped: unique total 2, duplicates 0, exit status 0");
        }
    }

    @Test
    void quietKeepsOnlyWarningsAndErrors() throws Exception {
        int port = ServerUnderTest.freePort();
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

    /** Runs its arguments with stderr a 4 KiB pipe that nobody reads (a stuck log shipper, a terminal after Ctrl+S). */
    private static final List<String> STDERR_NOBODY_READS = List.of("python3", "-c", String.join("\n",
            "import fcntl, os, sys",
            "r, w = os.pipe()",
            "os.set_inheritable(r, True)  # held open, never read: writes block once the pipe is full",
            "fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ",
            "os.dup2(w, 2)",
            "os.execvp(sys.argv[1], sys.argv[1:])"));

    /**
     * With stderr a full pipe, the diagnostics thread is stuck writing, and nothing else is:
     * serial clients and clients that reconnect in loops are all read, and terminate stops the
     * server at once (it used to stop serving after a few hundred connections, and to ignore
     * terminate and SIGTERM). The last lines wait a bounded time at exit.
     */
    @ParameterizedTest
    @ValueSource(strings = {"terminate", "TERM"})
    void aStderrNobodyReadsHoldsUpNeitherClientsNorTheStop(String stop) throws Exception {
        Skip.unless(new ProcessBuilder("python3", "-c", "import fcntl").start().waitFor() == 0, "python3 is not available here");
        int port = ServerUnderTest.freePort();
        try (PackagedServer server = PackagedServer.launchThrough(dir, STDERR_NOBODY_READS, java.util.Map.of(),
                "--bind", "127.0.0.1", "--port", Integer.toString(port), "--admin-port", "0")) {
            await().ignoreExceptions().until(() -> {
                TestClient.connect(port).close();
                return true;
            });
            int sent = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!diagnosticsWriteToAFullPipe(server.process.pid())) { // each connection adds lines, at most 20 a second
                assertThat(System.nanoTime()).as("stderr filled up within 30 s").isLessThan(deadline);
                try (TestClient client = TestClient.connect(port)) {
                    client.send(String.format("%09d\n", sent++));
                }
            }
            for (int i = 0; i < 1_000; i++) { // now with stderr full: strictly serial clients
                try (TestClient client = TestClient.connect(port)) {
                    client.send(String.format("%09d\n", sent++));
                }
            }
            int total = sent;
            await().atMost(Duration.ofSeconds(10)).until(() -> server.logLines().size() == total);
            if (stop.equals("terminate")) {
                try (TestClient client = TestClient.connect(port)) {
                    client.send("terminate\n");
                }
            } else {
                server.signal(stop);
            }
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(new HashSet<>(server.logLines())).hasSize(total);
        }
    }

    /** True while the process's diagnostics thread waits to write to a full pipe (its wait channel says so). */
    private static boolean diagnosticsWriteToAFullPipe(long pid) throws IOException {
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.anyMatch(task -> {
                try {
                    return Files.readString(task.resolve("comm")).strip().equals("diagnostics")
                            && Files.readString(task.resolve("wchan")).contains("pipe_write");
                } catch (IOException gone) {
                    return false;
                }
            });
        }
    }

    /** SIGUSR1 reopens the log at its path after a rotation moved it: the two files hold the run's set, each number once. */
    @Test
    void sigusr1ReopensTheLogAfterARotationMovedIt() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            try (TestClient client = server.connect()) {
                client.send(numbers(0, 1_000)).finish().awaitClosedByServer(CLOSE_TIMEOUT);
            }
            Path rotated = dir.resolve("numbers.log.1");
            Files.move(server.log(), rotated);
            server.signal("USR1");
            await().until(() -> server.stderr.stream().anyMatch(l -> l.contains("INFO  reopened the log numbers.log")));
            try (TestClient client = server.connect()) {
                client.send(numbers(500, 2_000)).finish().awaitClosedByServer(CLOSE_TIMEOUT);
            }
            server.requestStop();
            assertThat(server.awaitExit(EXIT_TIMEOUT)).as("SIGUSR1 did not end the process").isZero();
            List<String> before = Files.readAllLines(rotated);
            List<String> after = server.logLines();
            assertThat(before).hasSize(1_000);
            assertThat(after).hasSize(1_000).doesNotContainAnyElementsOf(before);
            assertThat(server.diagnostics()).noneMatch(l -> l.contains("was moved or deleted"));
        }
    }

    /** A log moved or deleted without a reopen: said once, within about a second, and the numbers still counted. */
    @Test
    void aLogDeletedWithoutAReopenIsSaidOnce() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            Files.delete(server.log());
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> server.stderr.stream().anyMatch(l -> l.contains("WARN  the log numbers.log was moved or deleted")));
            try (TestClient client = server.connect()) {
                client.send(numbers(0, 10)).finish().awaitClosedByServer(CLOSE_TIMEOUT);
            }
            Thread.sleep(1_500); // a second check of the path has run: it must not say it again
            server.requestStop();
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(server.diagnostics()).filteredOn(l -> l.contains("was moved or deleted")).hasSize(1);
        }
    }

    /** logrotate's copytruncate empties the log while clients send: the log stays lines of numbers, no NUL bytes. */
    @Test
    void aLogEmptiedInPlaceWhileClientsSendStaysWholeLines() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir); TestClient client = server.connect()) {
            client.send(numbers(0, 100_000));
            await().until(() -> Files.size(server.log()) > 0);
            try (java.nio.channels.FileChannel log = java.nio.channels.FileChannel.open(server.log(), java.nio.file.StandardOpenOption.WRITE)) {
                log.truncate(0); // : > numbers.log
            }
            client.send(numbers(100_000, 200_000)).finish().awaitClosedByServer(CLOSE_TIMEOUT);
            byte[] bytes = Files.readAllBytes(server.log());
            assertThat(bytes).isNotEmpty().doesNotContain((byte) 0);
            assertThat(new String(bytes, java.nio.charset.StandardCharsets.US_ASCII).lines())
                    .allMatch(l -> l.matches("[0-9]+") && Integer.parseInt(l) < 200_000);
            assertThat(bytes[bytes.length - 1]).isEqualTo((byte) '\n');
        }
    }

    /**
     * A pause of the whole process (SIGSTOP) longer than the idle timeout: the client that was
     * sending all along is not cut, and everything it sent meanwhile, waiting in the kernel, is read.
     */
    @Test
    void aPauseOfTheWholeProcessCutsNoClientThatKeptSending() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--idle-timeout", "500ms"); TestClient client = server.connect()) {
            AtomicBoolean sending = new AtomicBoolean(true);
            CompletableFuture<Integer> sender = CompletableFuture.supplyAsync(() -> {
                int sent = 0;
                try {
                    while (sending.get()) {
                        client.send(String.format("%09d\n", sent++));
                        Thread.sleep(20);
                    }
                } catch (IOException | InterruptedException e) {
                    throw new AssertionError("cut off after " + sent + " numbers", e);
                }
                return sent;
            }, ServerUnderTest.THREAD_PER_TASK);
            await().until(() -> server.logLines().size() > 10);
            server.signal("STOP");
            Thread.sleep(2_000); // four idle timeouts
            server.signal("CONT");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.logLines().size() > 150);
            sending.set(false);
            int sent = sender.get(5, TimeUnit.SECONDS);
            client.finish().awaitClosedByServer(CLOSE_TIMEOUT);
            assertThat(server.logLines()).hasSize(sent);
            assertThat(server.stderr).noneMatch(l -> l.contains("sent nothing for"));
        }
    }

    /** After a pause of the process, one report comes for the ticks it missed, not a burst of them. */
    @Test
    void reportsSkipTheTicksAPauseMissed() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--report-interval", "200ms")) {
            await().until(() -> server.stdout.size() >= 3);
            server.signal("STOP");
            Thread.sleep(1_600); // eight ticks
            int before = server.stdout.size();
            long resumed = System.nanoTime();
            server.signal("CONT");
            await().until(() -> server.stdout.size() >= before + 4);
            long inFirstInterval = server.stdoutArrivals.stream().skip(before)
                    .filter(at -> at - resumed < TimeUnit.MILLISECONDS.toNanos(200)).count();
            assertThat(inFirstInterval).as("reports within 200 ms of the resume").isBetween(1L, 2L);
            server.requestStop();
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
        }
    }

    private static String numbers(int from, int to) {
        StringBuilder lines = new StringBuilder();
        for (int i = from; i < to; i++) {
            lines.append(String.format("%09d\n", i));
        }
        return lines.toString();
    }

    /** The churn of connections: served clients, and clients waiting for a slot, leave no file descriptor or thread behind. */
    @Test
    void clientsComingAndGoingLeaveTheServerAsItWas() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            long pid = server.process.pid();
            churn(server, 2); // every pool thread started, every lazy class loaded
            long filesBefore = openFiles(pid);
            long threadsBefore = ourThreads(pid);
            churn(server, 400);
            await().atMost(Duration.ofSeconds(10)).until(() -> openFiles(pid) == filesBefore && ourThreads(pid) == threadsBefore);
            assertThat(server.logLines()).hasSize(8 * 400); // every connection read, the waiting ones too
        }
    }

    /** {@code rounds} times: 8 connections at once (5 served, 3 waiting for a slot), each sends a number of its own. */
    private static void churn(PackagedServer server, int rounds) throws IOException {
        for (int r = 0; r < rounds; r++) {
            TestClient[] clients = new TestClient[8];
            for (int c = 0; c < clients.length; c++) {
                clients[c] = server.connect();
            }
            for (int c = 0; c < clients.length; c++) {
                clients[c].send(String.format("%09d\n", r * clients.length + c + 100)).finish().awaitClosedByServer(CLOSE_TIMEOUT);
                clients[c].close();
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
