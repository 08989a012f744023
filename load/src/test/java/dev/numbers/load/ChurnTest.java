package dev.numbers.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code load --reconnect-every}: how many connections a churn run opens and what it sends,
 * counted by the server side, and when its clock stops. Not against numbers-server, which today
 * loses numbers when a client reconnects at once.
 */
class ChurnTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int CLIENTS = 3;
    private static final long COUNT = 10_000;
    /** 10,000 numbers in connections of 1,500: six full ones and one of 1,000, per client. */
    private static final long RECONNECT_EVERY = 1_500;
    private static final long CONNECTIONS = CLIENTS * 7;
    private static final long SHORT_STALL_NS = TimeUnit.MILLISECONDS.toNanos(300);

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    void opensANewConnectionEveryNNumbersAndStopsTheClockWhenTheLogIsComplete() throws Exception {
        Path log = dir.resolve("numbers.log");
        // The first connection's numbers reach the log 300 ms after the last connection closed: a
        // clock stopped at that close would verify a log without them.
        try (LoggingServer server = LoggingServer.loggingFirstLast(log)) {
            boolean ok = run(server.port(), log, Long.MAX_VALUE);

            assertThat(ok).as("stderr: %s", err).isTrue();
            assertThat(server.connections()).isEqualTo(CONNECTIONS);
            assertThat(server.lines()).isEqualTo(CLIENTS * COUNT);
            assertThat(out.toString().lines()).satisfiesExactly(
                    l -> assertThat(l).matches("load: " + CLIENTS * COUNT + " numbers in \\d+\\.\\d{3} s: \\d+ numbers/s, "
                            + "\\d+\\.\\d MB/s, " + CONNECTIONS + " connections, \\d+ connections/s"),
                    l -> assertThat(l).matches("verify: OK, the log holds exactly the \\d+ unique numbers sent, once each"));
        }
    }

    @Test
    void aServerThatLosesAConnectionFailsTheRunNamingTheLogsBytesAndTheExpectedOnes() throws Exception {
        Path log = dir.resolve("numbers.log");
        try (LoggingServer server = LoggingServer.losing(log, 2)) {
            boolean ok = run(server.port(), log, SHORT_STALL_NS);

            assertThat(ok).isFalse();
            assertThat(server.connections()).isEqualTo(CONNECTIONS);
            assertThat(out.toString()).isEmpty();
            Matcher failure = Pattern.compile("load: the log " + Pattern.quote(log.toString()) + " has (\\d+) bytes and has "
                    + "not grown for 0\\.3 s, but the \\d+ unique numbers sent take (\\d+) bytes stripped or \\d+ padded: "
                    + "the server lost some; not verifying").matcher(lastLine(err));
            assertThat(failure.matches()).as("stderr: %s", err).isTrue();
            assertThat(Long.parseLong(failure.group(1))).isEqualTo(Files.size(log)).isLessThan(Long.parseLong(failure.group(2)));
        }
    }

    @Test
    void againstTheSinkOpensExactlyTheConnectionsAndSendsEveryNumberAndFailsForWantOfALog() throws Exception {
        // The sink keeps no log: the run cannot stop its clock, and says so after the stall.
        Path log = Files.createFile(dir.resolve("numbers.log"));
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

            boolean ok = run(sink.address().getPort(), log, SHORT_STALL_NS);

            assertThat(ok).isFalse();
            assertThat(lastLine(err)).startsWith("load: the log " + log + " has 0 bytes and has not grown for 0.3 s")
                    .endsWith("; not verifying");
            long bytes = CLIENTS * COUNT * Workload.LINE_BYTES;
            await().until(() -> sink.summary().contains("served " + CONNECTIONS + " connections, read " + bytes + " bytes"));
            sink.stop("the test");
            serving.join(10_000);
        }
    }

    private boolean run(int port, Path log, long stallNanos) throws InterruptedException {
        LoadGenerator.Plan plan = new LoadGenerator.Plan(LOOPBACK, port, CLIENTS, COUNT, null, 1_000_000, 7, false,
                log, false, RECONNECT_EVERY);
        return LoadGenerator.run(plan, new PrintWriter(out, true), new PrintWriter(err, true), stallNanos);
    }

    private static String lastLine(StringWriter text) {
        return text.toString().lines().reduce((first, second) -> second).orElse("");
    }
}
