package dev.numbers.server;

import static dev.numbers.server.ServerUnderTest.CLOSE_TIMEOUT;
import static dev.numbers.server.ServerUnderTest.EXIT_TIMEOUT;
import static dev.numbers.server.ServerUnderTest.REPORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The protocol, as a client sees it over real loopback sockets: every rule of the task, each test
 * against a server of its own. Written once; {@link InProcessProtocolTest} runs it against a
 * server in this JVM, {@link PackagedProtocolIT} against the packaged jar.
 */
abstract class ProtocolContract {

    @TempDir
    Path dir;

    /** How this run starts its servers. */
    abstract ServerUnderTest.Launcher launcher();

    ServerUnderTest start(String... args) throws Exception {
        return launcher().start(dir, args);
    }

    @Nested
    class ClientSlots {

        /**
         * Five are read at once; a sixth waits, unread, in the accept queue: the five's later
         * numbers are logged while its earlier one is not. When a slot frees it is served.
         */
        @Test
        void servesFiveClientsAndKeepsTheSixthWaitingUnreadUntilASlotFrees() throws Exception {
            try (ServerUnderTest server = start()) {
                List<TestClient> five = new ArrayList<>();
                for (int i = 1; i <= 5; i++) {
                    five.add(server.connect().send(String.format("%09d\n", i)));
                }
                await().until(() -> server.logLines().size() == 5); // all five are being served
                try (TestClient sixth = server.connect()) {
                    sixth.send("000000006\n").finish();
                    for (int i = 0; i < 5; i++) {
                        five.get(i).send(String.format("%09d\n", 11 + i)); // sent after the sixth's
                    }
                    await().until(() -> server.logLines().size() == 10);
                    assertThat(server.logLines()).as("the sixth is not read while five are").doesNotContain("6");
                    five.get(0).finish().awaitClosedByServer(CLOSE_TIMEOUT);
                    assertThat(sixth.awaitClosedByServer(CLOSE_TIMEOUT)).as("served, then closed: nothing written").isEmpty();
                    assertThat(server.logLines()).contains("6");
                }
                five.get(0).close();
                for (TestClient client : five.subList(1, 5)) {
                    client.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                    client.close();
                }
                assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2", "3", "4", "5", "6", "11", "12", "13", "14", "15");
            }
        }

        @Test
        void freesASlotAsSoonAsItsConnectionEnds() throws Exception {
            try (ServerUnderTest server = start("--max-clients", "2");
                 TestClient first = server.connect().send("000000001\n");
                 TestClient second = server.connect().send("000000002\n")) {
                await().until(() -> server.logLines().size() == 2);
                first.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                try (TestClient third = server.connect()) {
                    third.send("000000003\n").finish();
                    assertThat(third.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                }
                second.send("000000004\n"); // still served beside the third
                await().until(() -> server.logLines().contains("4"));
                assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2", "3", "4");
            }
        }

        @Test
        void maxClientsOptionSetsTheLimit() throws Exception {
            try (ServerUnderTest server = start("--max-clients", "1")) {
                try (TestClient first = server.connect().send("000000001\n"); TestClient second = server.connect()) {
                    await().until(() -> server.logLines().size() == 1);
                    second.send("000000002\n").finish();
                    first.send("000000003\n"); // sent after the second's
                    await().until(() -> server.logLines().contains("3"));
                    assertThat(server.logLines()).as("one client at a time").containsExactly("1", "3");
                    first.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                    second.awaitClosedByServer(CLOSE_TIMEOUT);
                }
                assertThat(server.logLines()).containsExactly("1", "3", "2");
            }
        }

        /**
         * Connections that wait are served in the order they arrived, and one its client closed
         * while it waited is still read to its end: its numbers were sent.
         */
        @Test
        void waitingClientsAreServedInArrivalOrderEvenWhenAlreadyClosed() throws Exception {
            try (ServerUnderTest server = start("--max-clients", "1")) {
                try (TestClient holder = server.connect().send("000000001\n")) {
                    await().until(() -> server.logLines().size() == 1);
                    for (int i = 2; i <= 6; i++) {
                        TestClient waiting = server.connect();
                        waiting.send(String.format("%09d\n", i));
                        waiting.close(); // gone before the server ever accepts it
                    }
                    holder.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
                await().until(() -> server.logLines().size() == 6);
                assertThat(server.logLines()).containsExactly("1", "2", "3", "4", "5", "6");
            }
        }

        /** Strictly serial clients: connect, one line, close without waiting, connect again at once. */
        @Test
        void aClientThatReconnectsAtOnceLosesNothing() throws Exception {
            try (ServerUnderTest server = start()) {
                for (int i = 0; i < 300; i++) {
                    try (TestClient client = server.connect()) {
                        client.send(String.format("%09d\n", 1000 + i));
                    }
                }
                await().until(() -> server.logLines().size() == 300);
                assertThat(server.logLines()).hasSize(300).doesNotHaveDuplicates()
                        .allMatch(l -> Integer.parseInt(l) >= 1000 && Integer.parseInt(l) < 1300);
            }
        }

        /** Five clients, each reconnecting every 100 numbers without waiting: every number in the log, once. */
        @Test
        void clientsReconnectingInLoopsLoseNothing() throws Exception {
            try (ServerUnderTest server = start()) {
                ExecutorService clients = Executors.newFixedThreadPool(5);
                try {
                    List<Future<?>> done = new ArrayList<>();
                    for (int c = 0; c < 5; c++) {
                        int client = c;
                        done.add(clients.submit(() -> {
                            for (int connection = 0; connection < 100; connection++) {
                                StringBuilder lines = new StringBuilder();
                                for (int i = 0; i < 100; i++) {
                                    lines.append(String.format("%09d\n", client * 10_000 + connection * 100 + i));
                                }
                                try (TestClient socket = server.connect()) {
                                    socket.send(lines.toString());
                                }
                            }
                            return null;
                        }));
                    }
                    for (Future<?> client : done) {
                        client.get();
                    }
                } finally {
                    clients.shutdownNow();
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> server.logLines().size() == 50_000);
                assertThat(new HashSet<>(server.logLines())).hasSize(50_000);
            }
        }
    }

    @Nested
    class Framing {

        /** One byte per TCP segment (no Nagle, a pause between writes), so one per read. */
        @Test
        void acceptsLinesSplitAcrossReads() throws Exception {
            Skip.unless(TestClient.canSeeServerQueues(), "ss (iproute2) is not available here");
            try (ServerUnderTest server = start(); TestClient client = server.connect()) {
                for (byte b : LineDecoderTest.bytes("123456789\n000000042\nterminat")) {
                    client.send(new byte[] {b}).awaitReadByServer(); // a read per byte, for sure
                }
                await().until(() -> server.logLines().size() == 2);
                client.send("e\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
                assertThat(server.logLines()).containsExactlyInAnyOrder("123456789", "42");
            }
        }

        @Test
        void acceptsManyLinesPerRead() throws Exception {
            int count = 100_000;
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < count; i++) {
                lines.append(String.format("%09d\n", i * 7));
            }
            try (ServerUnderTest server = start(); TestClient client = server.connect()) {
                client.send(lines.toString()).finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(server.logLines()).hasSize(count)
                        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, count).mapToObj(i -> String.valueOf(i * 7)).toList());
            }
        }
    }

    @Nested
    class InvalidInput {

        @ParameterizedTest
        @ValueSource(strings = {
            "12345678\n",            // too short
            "1234567890\n",          // too long
            "12345678a\n",           // a letter
            "12345678/\n",           // the byte just below '0'
            "12345678:\n",           // the byte just above '9'
            "123456789\r\n",         // a newline that is not this server's
            "\n",                    // an empty line
            "terminate \n",          // terminate with extra characters
            "Terminate\n",           // terminate in another case
            "-12345678\n",
            " 12345678\n",
        })
        void closesSilentlyAndKeepsOnlyTheLinesBefore(String invalid) throws Exception {
            try (ServerUnderTest server = start(); TestClient client = server.connect()) {
                client.send("111111111\n" + invalid + "222222222\n");
                assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat(server.logLines()).containsExactly("111111111");
            }
        }

        @Test
        void closesOnAFinalLineWithoutNewlineAtEndOfStream() throws Exception {
            try (ServerUnderTest server = start(); TestClient client = server.connect()) {
                client.send("111111111\n22222").finish();
                assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat(server.logLines()).containsExactly("111111111");
            }
        }

        @Test
        void closesAtTheFirstByteThatCannotBeValidWithoutWaitingForANewline() throws Exception {
            try (ServerUnderTest server = start(); TestClient client = server.connect()) {
                client.send("111111111\n12x"); // no newline, and the client keeps its side open
                assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat(server.logLines()).containsExactly("111111111");
            }
        }

        @Test
        void closesAnEndlessLineOfDigits() throws Exception {
            try (ServerUnderTest server = start(); TestClient client = server.connect()) {
                byte[] digits = new byte[1 << 20];
                Arrays.fill(digits, (byte) '7');
                try {
                    for (int i = 0; i < 64; i++) {
                        client.send(digits);
                    }
                } catch (IOException expected) {
                    // The server closed the connection while we were still writing: the point.
                }
                assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat(server.logLines()).isEmpty();
            }
        }

        @Test
        void otherClientsAreNotAffected() throws Exception {
            try (ServerUnderTest server = start(); TestClient good = server.connect(); TestClient bad = server.connect()) {
                good.send("000000001\n");
                bad.send("oops\n");
                bad.awaitClosedByServer(CLOSE_TIMEOUT);
                good.send("000000002\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2");
            }
        }
    }

    @Nested
    class NumbersLog {

        @Test
        void isTruncatedAtStartup() throws Exception {
            Files.writeString(dir.resolve("numbers.log"), "999\nold run\n");
            try (ServerUnderTest server = start()) {
                assertThat(Files.size(server.log())).isZero();
            }
        }

        @Test
        void stripsLeadingZerosByDefault() throws Exception {
            try (ServerUnderTest server = start(); TestClient client = server.connect()) {
                client.send("007007009\n000000000\n000000010\n314159265\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(Files.readString(server.log())).isIn(permutationsOf("7007009\n", "0\n", "10\n", "314159265\n"));
            }
        }

        @Test
        void paddedFormatKeepsNineDigits() throws Exception {
            try (ServerUnderTest server = start("--log-format", "padded"); TestClient client = server.connect()) {
                client.send("007007009\n000000000\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(Files.readString(server.log())).isIn(permutationsOf("007007009\n", "000000000\n"));
            }
        }

        @Test
        void logOptionChoosesThePath() throws Exception {
            Path elsewhere = dir.resolve("elsewhere.log");
            try (ServerUnderTest server = start("--log", elsewhere.toString()); TestClient client = server.connect()) {
                client.send("000000005\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(Files.readAllLines(elsewhere)).containsExactly("5");
                assertThat(dir.resolve("numbers.log")).doesNotExist();
            }
        }

        private List<String> permutationsOf(String... lines) {
            List<String> all = new ArrayList<>();
            permute(new ArrayList<>(List.of(lines)), 0, all);
            return all;
        }

        private void permute(List<String> lines, int k, List<String> out) {
            if (k == lines.size()) {
                out.add(String.join("", lines));
                return;
            }
            for (int i = k; i < lines.size(); i++) {
                Collections.swap(lines, k, i);
                permute(lines, k + 1, out);
                Collections.swap(lines, k, i);
            }
        }
    }

    @Nested
    class Deduplication {

        @Test
        void fiveClientsSendingTheSameNumbersAtOnceLogEachOnce() throws Exception {
            int distinct = 50_000;
            try (ServerUnderTest server = start("--report-interval", "100ms")) {
                ExecutorService pool = Executors.newFixedThreadPool(5);
                CyclicBarrier together = new CyclicBarrier(5);
                List<Future<?>> sent = new ArrayList<>();
                for (int c = 0; c < 5; c++) {
                    List<Integer> numbers = IntStream.range(0, distinct).map(i -> i * 19_997).boxed().collect(Collectors.toList());
                    Collections.shuffle(numbers, new Random(c));
                    StringBuilder text = new StringBuilder();
                    numbers.forEach(n -> text.append(String.format("%09d\n", n)));
                    sent.add(pool.submit(() -> {
                        try (TestClient client = server.connect()) {
                            together.await();
                            client.send(text.toString()).finish().awaitClosedByServer(CLOSE_TIMEOUT);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : sent) {
                    f.get();
                }
                pool.shutdown();
                List<String> lines = server.logLines();
                assertThat(lines).hasSize(distinct).doesNotHaveDuplicates();
                awaitReportedTotal(server, distinct);
                assertThat(reportedSum(server, 1)).isEqualTo(distinct);
                assertThat(reportedSum(server, 2)).isEqualTo(4L * distinct);
            }
        }

        @Test
        void repeatsFromTheSameClientCountAsDuplicates() throws Exception {
            try (ServerUnderTest server = start("--report-interval", "100ms"); TestClient client = server.connect()) {
                client.send("000000001\n000000001\n000000002\n000000001\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2");
                awaitReportedTotal(server, 2);
                assertThat(reportedSum(server, 2)).isEqualTo(2);
            }
        }
    }

    @Nested
    class Reports {

        @Test
        void countsSinceThePreviousReportAndTheTotal() throws Exception {
            try (ServerUnderTest server = start("--report-interval", "100ms")) {
                try (TestClient client = server.connect()) {
                    client.send("000000001\n000000002\n000000003\n000000001\n000000001\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
                awaitReportedTotal(server, 3);
                int before = server.reportLines().size();
                try (TestClient client = server.connect()) {
                    client.send("000000004\n000000003\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
                awaitReportedTotal(server, 4);
                List<String> lines = server.reportLines();
                assertThat(lines).allMatch(l -> REPORT.matcher(l).matches());
                assertThat(reportedSum(server, 1)).isEqualTo(4);
                assertThat(reportedSum(server, 2)).isEqualTo(3);
                assertThat(lines.subList(before, lines.size()).stream().mapToLong(l -> field(l, 2)).sum()).isEqualTo(1);
            }
        }

        /**
         * Twenty reports, 100 ms apart, land near 20 intervals after the first line: not 20
         * intervals plus 20 delays, which a schedule at a fixed delay would give. (The drift itself
         * is shown where it can be made large: NumberServerTest's slow reporter.)
         */
        @Test
        void keepsAFixedScheduleStartingOneIntervalAfterStart() throws Exception {
            long interval = 100;
            List<Long> arrivals = new CopyOnWriteArrayList<>();
            try (ServerUnderTest server = start("--report-interval", interval + "ms")) {
                long start = System.nanoTime();
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    while (arrivals.size() < server.reportLines().size()) {
                        arrivals.add((System.nanoTime() - start) / 1_000_000);
                    }
                    return arrivals.size() >= 20;
                });
                assertThat(arrivals.get(19) - arrivals.get(0)).isBetween(19 * interval - 50, 19 * interval + 500);
                assertThat(server.reportLines().get(0)).isEqualTo("Received 0 unique numbers, 0 duplicates. Unique total: 0");
            }
        }
    }

    /**
     * {@link ProtocolModel} over real sockets: random streams written in random pieces. An
     * invalid stream is closed by the server without the client's end of stream; a valid one
     * stays open until it; the log gains exactly the model's numbers. (The exact read boundaries
     * are {@link ClientSessionPropertyTest}'s business; here TCP decides them.)
     */
    @Nested
    class RandomStreams {

        @Test
        void serverAgreesWithTheModelOverSockets() throws Exception {
            long seed = 424242;
            try (ServerUnderTest server = start("--log-format", "padded")) {
                Set<String> expectedLog = new HashSet<>();
                for (int c = 0; c < 300; c++) {
                    SplittableRandom random = new SplittableRandom(seed + c);
                    byte[] stream = ProtocolModel.randomStream(random, c * 1000, false, new byte[] {'\n'});
                    ProtocolModel.Expectation model = ProtocolModel.expect(stream, new byte[] {'\n'});
                    String what = "case seed " + (seed + c) + ": " + ProtocolModel.printable(stream);
                    boolean invalidMidStream = model.outcome() == ProtocolModel.Outcome.INVALID && model.stopAt() < stream.length;
                    try (TestClient client = server.connect()) {
                        try {
                            for (byte[] piece : ProtocolModel.randomPieces(random, stream, 40)) {
                                client.send(piece);
                            }
                        } catch (IOException closedUnderUs) {
                            assertThat(invalidMidStream).as(what + ": only an invalid stream is closed early").isTrue();
                        }
                        if (invalidMidStream) {
                            assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).as(what).isEmpty();
                        } else {
                            client.finish();
                            assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).as(what).isEmpty();
                        }
                    }
                    model.numbers().forEach(n -> expectedLog.add(String.format("%09d", n)));
                    List<String> lines = server.logLines();
                    assertThat(new HashSet<>(lines)).as(what).isEqualTo(expectedLog);
                    assertThat(lines).as(what).hasSize(expectedLog.size());
                }
            }
        }
    }

    @Nested
    class IdleTimeout {

        @Test
        void disconnectsAClientThatSendsNothingForTheTimeout() throws Exception {
            try (ServerUnderTest server = start("--idle-timeout", "300ms"); TestClient idle = server.connect()) {
                idle.send("000000001\n");
                long start = System.nanoTime();
                assertThat(idle.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(250);
                assertThat(server.logLines()).containsExactly("1");
            }
        }

        @Test
        void keepsAClientThatKeepsSending() throws Exception {
            try (ServerUnderTest server = start("--idle-timeout", "300ms"); TestClient busy = server.connect()) {
                for (int i = 0; i < 20; i++) {
                    busy.send(String.format("%09d\n", i));
                    Thread.sleep(50); // a slow sender, well inside the timeout between lines
                }
                busy.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(server.logLines()).hasSize(20);
            }
        }
    }

    @Nested
    class Terminate {

        @Test
        void stopsAcceptingDisconnectsEveryClientAndExitsZero() throws Exception {
            try (ServerUnderTest server = start(); TestClient idle = server.connect(); TestClient busy = server.connect()) {
                busy.send("000000001\n");
                await().until(() -> server.logLines().size() == 1);
                try (TestClient terminator = server.connect()) {
                    terminator.send("000000002\nterminate\n000000003\n");
                    assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
                }
                assertThat(idle.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat(busy.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThatThrownBy(() -> TestClient.connect(server.port())).isInstanceOf(ConnectException.class);
                assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2"); // nothing after terminate
            }
        }

        /** A connection waiting for a slot when terminate comes is not served: the stop resets it, unread. */
        @Test
        void connectionsWaitingForASlotAreDroppedUnread() throws Exception {
            try (ServerUnderTest server = start("--max-clients", "1"); TestClient holder = server.connect()) {
                holder.send("000000001\n");
                await().until(() -> server.logLines().size() == 1);
                try (TestClient waiting = server.connect()) {
                    waiting.send("000000002\n").finish();
                    holder.send("terminate\n");
                    assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
                    assertThat(waiting.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                }
                assertThat(server.logLines()).containsExactly("1");
            }
        }

        /** "termi", a pause so that it is a read of its own, then "nate\n". */
        @Test
        void aTerminateLineSplitAcrossReadsStillCounts() throws Exception {
            try (ServerUnderTest server = start(); TestClient client = server.connect()) {
                client.send("termi");
                Thread.sleep(20);
                client.send("nate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
        }
    }

    /** Waits until the reports have counted {@code total} unique numbers. */
    static void awaitReportedTotal(ServerUnderTest server, long total) {
        await().until(() -> server.reportLines().stream().anyMatch(l -> l.endsWith("Unique total: " + total)));
    }

    /** The sum of figure {@code group} (1: unique, 2: duplicates) over every report so far. */
    static long reportedSum(ServerUnderTest server, int group) {
        return server.reportLines().stream().mapToLong(l -> field(l, group)).sum();
    }

    static long field(String reportLine, int group) {
        Matcher m = REPORT.matcher(reportLine);
        assertThat(m.matches()).as(reportLine).isTrue();
        return Long.parseLong(m.group(group));
    }
}
