package dev.numbers.server;

import static dev.numbers.server.ServerUnderTest.CLOSE_TIMEOUT;
import static dev.numbers.server.ServerUnderTest.EXIT_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules of the server's lifecycle and timing that no client can see break, each with a test
 * that fails when the rule is broken: planted once on purpose, and seen to fail.
 */
class NumberServerTest {

    @TempDir
    Path dir;

    /**
     * Client A's 42 is marked and held in its log write (a slow disk); client B sends 42 too,
     * finds it seen, and ends its stream. B must not see its connection closed before 42 is in
     * the log (BatchesInFlight): a kill -9 at that moment would lose a number B's client was
     * told was stored. Planted bug: {@code awaitOthers} returning at once fails this test.
     */
    @Test
    void aClientsCloseWaitsForAnotherClientsBatchOfTheSameNumberStillBeingWritten() throws Exception {
        AtomicReference<FaultyFileChannel> disk = new AtomicReference<>();
        UnaryOperator<FileChannel> slowDisk = channel -> {
            disk.set(new FaultyFileChannel(channel));
            return disk.get();
        };
        try (InProcessServer server = InProcessServer.start(dir, slowDisk, new ByteArrayOutputStream());
             TestClient a = server.connect();
             TestClient b = server.connect()) {
            disk.get().holdWrites();
            a.send("000000042\n");
            assertThat(disk.get().awaitHeldWrite(5_000)).as("A's batch is being written").isTrue();

            b.send("000000042\n").finish();
            await().until(() -> server.stats().duplicateTotal() == 1); // B found 42 seen and reads its end
            assertThat(b.isOpenAfter(Duration.ofMillis(300))).as("B open while A still writes 42").isTrue();

            disk.get().release();
            assertThat(b.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
            assertThat(server.logLines()).containsExactly("42");
        }
    }

    /**
     * The report runs at a fixed rate: a report that takes most of an interval to print (a slow
     * stdout) does not push the next ones back. At a fixed delay the 20th report would start
     * 19 x 80 ms late. Planted bug: scheduleWithFixedDelay fails this test.
     */
    @Test
    void theReportKeepsItsScheduleWhenPrintingItIsSlow() throws Exception {
        long intervalMs = 100;
        long printMs = 80;
        List<Long> starts = new CopyOnWriteArrayList<>();
        ByteArrayOutputStream slowStdout = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] bytes, int offset, int length) {
                super.write(bytes, offset, length);
                if (length > 1) { // the line itself, not its separator
                    starts.add(System.nanoTime());
                    sleep(printMs);
                }
            }
        };
        long startedAt = System.nanoTime();
        try (InProcessServer server = InProcessServer.start(dir, UnaryOperator.identity(), slowStdout,
                "--report-interval", intervalMs + "ms")) {
            await().atMost(Duration.ofSeconds(20)).until(() -> starts.size() >= 20);
            long firstMs = TimeUnit.NANOSECONDS.toMillis(starts.get(0) - startedAt);
            long spanMs = TimeUnit.NANOSECONDS.toMillis(starts.get(19) - starts.get(0));
            assertThat(firstMs).as("the first report, one interval after the start").isGreaterThanOrEqualTo(intervalMs - 20);
            // A timer never fires early; a schedule that waits an interval after each slow print
            // cannot take less than 19 x (interval + print) = 3,420 ms, and a loaded machine's
            // lateness on a fixed schedule stays well below the 1.1 s this leaves it.
            assertThat(spanMs).as("19 intervals from the first report to the 20th")
                    .isBetween(19 * intervalMs - 50, 19 * (intervalMs + printMs) - 420);
            assertThat(server.reportLines()).first().isEqualTo("Received 0 unique numbers, 0 duplicates. Unique total: 0");
        }
    }

    /**
     * A start that fails closes what it had opened (the number port is free again) and, failing
     * on a side port, has not touched the previous run's log.
     */
    @Test
    void aFailedStartClosesEverythingItOpenedAndLeavesTheLogAlone() throws Exception {
        Files.writeString(dir.resolve("numbers.log"), "1\n2\n");
        int numberPort = ServerUnderTest.freePort();
        try (ServerSocket metricsTaken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> InProcessServer.start(dir, "--port", Integer.toString(numberPort),
                    "--metrics-port", Integer.toString(metricsTaken.getLocalPort())))
                    .isInstanceOf(StartupException.class)
                    .hasMessage("cannot open metrics port " + metricsTaken.getLocalPort() + ": address already in use");
        }
        assertThat(Files.readString(dir.resolve("numbers.log"))).isEqualTo("1\n2\n");
        try (InProcessServer again = InProcessServer.start(dir, "--port", Integer.toString(numberPort));
             TestClient client = again.connect()) {
            client.send("000000007\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
            assertThat(again.logLines()).containsExactly("7");
        }
    }

    /** A port in use fails the start before the log is touched: the other run's log is intact. */
    @Test
    void aPortInUseLeavesAnExistingLogAlone() throws Exception {
        Path log = dir.resolve("numbers.log");
        Files.writeString(log, "1\n2\n");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> InProcessServer.start(dir, "--port", Integer.toString(taken.getLocalPort())))
                    .isInstanceOf(StartupException.class)
                    .hasMessageContaining("address already in use");
        }
        assertThat(Files.readString(log)).isEqualTo("1\n2\n");
    }

    /**
     * A stderr that takes nothing (a pipe nobody reads) from the first line on: clients are
     * served, one after another and five at a time, and terminate still stops the server.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120) // a server that waits for the stuck stream waits forever
    void aStderrThatTakesNothingHoldsUpNeitherClientsNorTheStop() throws Exception {
        dev.numbers.ops.StuckStream stderr = new dev.numbers.ops.StuckStream();
        dev.numbers.ops.Diagnostics.configure(stderr, false);
        try (InProcessServer server = InProcessServer.start(dir)) {
            for (int i = 0; i < 500; i++) {
                try (TestClient client = server.connect()) {
                    client.send(String.format("%09d\n", i)); // two lines of stderr each, and a flood of them
                }
            }
            await().until(() -> server.logLines().size() == 500);
            try (TestClient client = server.connect()) {
                client.send("terminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            assertThat(stderr.text()).as("nothing got through").isEmpty();
        } finally {
            stderr.unblock();
            dev.numbers.ops.Diagnostics.configure(null, false);
        }
    }

    /** --bind 0.0.0.0 is IPv4 only (a dual-stack socket would take IPv6 clients too), and the started line says so. */
    @Test
    void anIpv4BindAddressListensOnIpv4Only() throws Exception {
        InetAddress ipv6Loopback = InetAddress.getByName("::1");
        boolean machineHasIpv6;
        try (ServerSocket probe = new ServerSocket(0, 1, ipv6Loopback)) {
            machineHasIpv6 = true;
        } catch (IOException e) {
            machineHasIpv6 = false;
        }
        Skip.unless(machineHasIpv6, "this machine has no IPv6 loopback");
        try (CapturedDiagnostics said = CapturedDiagnostics.capture();
             InProcessServer server = InProcessServer.start(dir, "--bind", "0.0.0.0")) {
            assertThat(said.lines().get(0)).contains(" bind=all IPv4 interfaces ");
            new java.net.Socket(InetAddress.getByName("127.0.0.1"), server.port()).close();
            assertThatThrownBy(() -> new java.net.Socket(ipv6Loopback, server.port()).close())
                    .isInstanceOf(java.net.ConnectException.class);
        }
    }

    /** Number connections probe a silent peer with TCP keepalive, so that a vanished client frees its slot (ss shows the timer). */
    @Test
    void numberConnectionsHaveTcpKeepalive() throws Exception {
        Skip.unless(new ProcessBuilder("ss", "-V").start().waitFor() == 0, "ss (iproute2) is not available here");
        try (InProcessServer server = InProcessServer.start(dir); TestClient client = server.connect()) {
            client.send("000000001\n");
            await().until(() -> server.logLines().size() == 1);
            Process ss = new ProcessBuilder("ss", "-tnoH", "state", "established", "( sport = :" + server.port() + " )").start();
            String sockets = new String(ss.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(ss.waitFor()).isZero();
            assertThat(sockets).containsPattern("timer:\\(keepalive,(2\\d|30)sec,0\\)"); // the first probe 30 s after the last packet
        }
    }

    /** A stop asked for before the start makes the start stop at its first step: nothing is opened. */
    @Test
    void aStopAskedForBeforeTheStartEndsItAtOnce() throws Exception {
        Path log = dir.resolve("numbers.log");
        Files.writeString(log, "left from the last run\n");
        NumberServer server = new NumberServer(dev.numbers.cli.Main.parseConfig(
                ServerUnderTest.defaultArgs("--log", log.toString()).toArray(String[]::new)), System.out);
        server.requestShutdown("the test");
        server.start();
        assertThat(server.awaitExit(EXIT_TIMEOUT.toMillis())).isTrue();
        assertThat(server.outcome()).isEqualTo(NumberServer.Outcome.STOPPED);
        assertThat(server.isServing()).isFalse();
        assertThat(Files.readString(log)).as("the log was never opened").isEqualTo("left from the last run\n");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * awaitExit waits while the server runs, and when it returns the run has closed everything it
     * opened: the port refuses, the log is unlocked, the timers' and clients' threads are gone.
     */
    @Test
    void whenAwaitExitReturnsEverythingIsClosed() throws Exception {
        long threadsBefore = serverThreads();
        InProcessServer server = InProcessServer.start(dir, "--report-interval", "100ms");
        int port = server.port();
        assertThat(server.server.awaitExit(100)).as("running").isFalse();
        java.util.concurrent.CompletableFuture<NumberServer.Outcome> exit = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return server.server.awaitExit();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }, ServerUnderTest.THREAD_PER_TASK);
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !exit.isDone());
        try (TestClient client = server.connect()) {
            client.send("000000001\nterminate\n");
            assertThat(exit.get(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(NumberServer.Outcome.STOPPED);
        }
        assertThatThrownBy(() -> TestClient.connect(port)).isInstanceOf(java.net.ConnectException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> serverThreads() == threadsBefore);
        try (InProcessServer again = InProcessServer.start(dir)) {
            assertThat(again.logLines()).as("unlocked, and emptied for the new run").isEmpty();
        }
    }

    /**
     * A stop while the disk is failing ends the wait (one last attempt), exits with the status
     * that says numbers are missing, and counts none of them.
     */
    @Test
    void aStopWhileTheDiskFailsEndsTheWaitAndCountsNothingUnwritten() throws Exception {
        AtomicReference<FaultyFileChannel> disk = new AtomicReference<>();
        try (InProcessServer server = InProcessServer.start(dir, channel -> {
            disk.set(new FaultyFileChannel(channel));
            return disk.get();
        }, new ByteArrayOutputStream()); TestClient client = server.connect()) {
            disk.get().failAfter(0);
            client.send("000000001\n000000002\n");
            await().until(() -> server.status().logFailing());
            server.requestStop();
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(3);
            assertThat(server.stats().uniqueTotal()).isZero();
        }
    }

    @Test
    void theIntervalPolicyForcesTheLogWithinAboutASecond() throws Exception {
        try (InProcessServer server = InProcessServer.start(dir, "--fsync", "interval"); TestClient client = server.connect()) {
            client.send("000000001\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.status().fsyncs() > 0);
            assertThat(server.status().fsyncNanos()).isPositive();
            assertThat(server.status().logBytes()).isEqualTo(2);
        }
    }

    /** The diagnostics of a run, in this JVM: each event, and the started line with every setting. */
    @Test
    void diagnosticsSayEveryEventOfARun() throws Exception {
        try (CapturedDiagnostics said = CapturedDiagnostics.capture();
             InProcessServer server = InProcessServer.start(dir, "--max-clients", "1", "--idle-timeout", "2m")) {
            try (TestClient client = server.connect().send("000000001\n")) {
                await().until(() -> server.logLines().size() == 1);
                client.send("bad\n").awaitClosedByServer(CLOSE_TIMEOUT);
            }
            try (TestClient terminator = server.connect()) {
                terminator.send("terminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            List<String> lines = said.lines();
            assertThat(lines.get(0)).contains("INFO  started port=" + server.port() + " bind=127.0.0.1 max-clients=1 log=")
                    .contains(" log-format=stripped report-interval=10s fsync=interval idle-timeout=2m admin-port=off metrics-port=off run-id=");
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ connected, 1 of 1"))
                    .anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ closed for invalid input after 1 numbers"))
                    .anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ sent terminate after 0 numbers"))
                    .anyMatch(l -> l.matches(".* INFO  shutting down: terminate from /127\\.0\\.0\\.1:\\d+"));
        }
    }

    /** Live threads of the server's kinds, as Threads names them. */
    private static long serverThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.matches("(report|housekeeping|client|acceptor|log-fsync|shutdown)-\\d+")).count();
    }
}
