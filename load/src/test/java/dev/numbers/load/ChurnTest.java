package dev.numbers.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code load --reconnect-every}: how many connections a churn run opens and what it sends,
 * counted by the server side, and when its clock stops: when the server has closed every
 * connection, which one thread watches. Not against numbers-server, which today loses numbers
 * when a client reconnects at once.
 */
class ChurnTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int CLIENTS = 3;
    private static final long COUNT = 10_000;
    private static final int RANGE = 1_000_000;
    private static final long SEED = 7;
    /** 10,000 numbers in connections of 1,500: six full ones and one of 1,000, per client. */
    private static final long RECONNECT_EVERY = 1_500;
    private static final long CONNECTIONS = CLIENTS * 7;
    private static final String SUMMARY = "load: " + CLIENTS * COUNT + " numbers in \\d+\\.\\d{3} s: \\d+ numbers/s, "
            + "\\d+\\.\\d MB/s, " + CONNECTIONS + " connections, \\d+ connections/s";
    /** Long enough that a loaded machine never fails a working run, short enough for a test. */
    private static final long SHORT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void againstTheSinkOpensExactlyTheConnectionsAndSendsEveryNumberWithoutALog() throws Exception {
        StringWriter sinkErr = new StringWriter();
        try (Sink sink = Sink.open(LOOPBACK, 0)) {
            Thread serving = new Thread(() -> {
                try {
                    sink.serve(new PrintWriter(sinkErr, true));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, "test-sink");
            serving.start();
            await().until(() -> sinkErr.toString().contains("listening"));

            boolean ok = run(sink.address().getPort(), null, Long.MAX_VALUE);

            assertThat(ok).as("stderr: %s", err).isTrue();
            assertThat(out.toString().lines()).singleElement().asString().matches(SUMMARY);
            assertThat(errorLines()).isEmpty();
            // No await: the sink closes a connection after reading it all, and the run ended on the last close.
            assertThat(sink.summary()).contains("served " + CONNECTIONS + " connections, read "
                    + CLIENTS * COUNT * Workload.LINE_BYTES + " bytes");
            sink.stop("the test");
            serving.join(10_000);
        }
    }

    @Test
    void againstALoggingServerOpensANewConnectionEveryNNumbersAndTheLogHoldsThemAll() throws Exception {
        Path log = dir.resolve("numbers.log");
        try (LoggingServer server = LoggingServer.start(log)) {
            boolean ok = run(server.port(), log, Long.MAX_VALUE);

            assertThat(ok).as("stderr: %s", err).isTrue();
            assertThat(server.connections()).isEqualTo(CONNECTIONS);
            assertThat(server.lines()).isEqualTo(CLIENTS * COUNT);
            assertThat(out.toString().lines()).satisfiesExactly(
                    l -> assertThat(l).matches(SUMMARY),
                    l -> assertThat(l).matches("verify: OK, the log holds exactly the \\d+ unique numbers sent, once each"));
        }
    }

    @Test
    void theClockStopsOnlyWhenTheServerHasClosedEveryConnectionTheFirstOneIncluded() throws Exception {
        // The first connection is closed 300 ms after every other: a clock stopped when the
        // clients were done, or at the last connection's close, would stop before it.
        try (LoggingServer server = LoggingServer.closingFirstLast(dir.resolve("numbers.log"))) {
            Workload workload = Workload.generate(CLIENTS, COUNT, RANGE, SEED);
            LoadRun run = new LoadRun(new InetSocketAddress(LOOPBACK, server.port()), workload, null, RECONNECT_EVERY,
                    Long.MAX_VALUE);

            LoadRun.Result result = run.run();

            assertThat(result.failures()).isEmpty();
            assertThat(result.connections()).isEqualTo(CONNECTIONS);
            assertThat(server.connections()).isEqualTo(CONNECTIONS);
            assertThat(server.firstClosedAtNanos()).isPositive();
            assertThat(result.endNanos() - server.firstClosedAtNanos()).isPositive();
        }
    }

    @Test
    void aServerThatNeverClosesAConnectionFailsTheRunNamingHowManyAfterTheTimeout() throws Exception {
        Path log = dir.resolve("numbers.log");
        try (LoggingServer server = LoggingServer.neverClosing(log, 2)) {
            boolean ok = run(server.port(), log, SHORT_TIMEOUT_NS);

            assertThat(ok).isFalse();
            assertThat(server.connections()).isEqualTo(CONNECTIONS);
            assertThat(out.toString()).isEmpty();
            assertThat(errorLines()).containsExactly("load: 1 connection never closed: the server closed "
                    + (CONNECTIONS - 1) + " of the " + CONNECTIONS + " connections written, then none for 1.0 s; not verifying");
        }
    }

    @Test
    void aServerThatLosesAConnectionFailsTheVerification() throws Exception {
        Path log = dir.resolve("numbers.log");
        try (LoggingServer server = LoggingServer.losing(log, 2)) {
            boolean ok = run(server.port(), log, Long.MAX_VALUE);

            assertThat(ok).isFalse();
            assertThat(server.connections()).isEqualTo(CONNECTIONS);
            List<String> lines = out.toString().lines().toList();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).matches(SUMMARY);
            Matcher verdict = Pattern.compile("verify: FAILED: \\d+ expected, \\d+ found; missing (\\d+), unexpected 0, "
                    + "duplicated 0, malformed lines 0; for example missing .*").matcher(lines.get(1));
            assertThat(verdict.matches()).as("stdout: %s", out).isTrue();
            assertThat(Long.parseLong(verdict.group(1))).isPositive();
        }
    }

    @Test
    void aServerThatResetsAConnectionFailsTheRunNamingIt() throws Exception {
        Path log = dir.resolve("numbers.log");
        try (LoggingServer server = LoggingServer.resetting(log, 2)) {
            boolean ok = run(server.port(), null, Long.MAX_VALUE);

            assertThat(ok).isFalse();
            assertThat(out.toString()).isEmpty();
            assertThat(errorLines()).containsExactly("load: the server reset 1 of the " + CONNECTIONS + " connections rather "
                    + "than close them after reading them to their end: too many clients, or it stopped");
        }
    }

    private boolean run(int port, Path log, long closeTimeoutNanos) throws InterruptedException {
        LoadGenerator.Plan plan = new LoadGenerator.Plan(LOOPBACK, port, CLIENTS, COUNT, null, RANGE, SEED, false,
                log, false, RECONNECT_EVERY);
        return LoadGenerator.run(plan, new PrintWriter(out, true), new PrintWriter(err, true), closeTimeoutNanos);
    }

    /** stderr without the line every run prints before it sends. */
    private List<String> errorLines() {
        return err.toString().lines().filter(l -> !l.startsWith("load: generated ")).toList();
    }
}
