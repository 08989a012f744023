package dev.numbers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The server's behaviour over real loopback sockets, each test against its own server. */
class NumberServerTest {

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    @Nested
    class ClientSlots {

        @Test
        void servesFiveClientsAndClosesTheSixthUnread() throws Exception {
            try (TestServer server = TestServer.start(dir)) {
                List<TestClient> five = new ArrayList<>();
                for (int i = 1; i <= 5; i++) {
                    five.add(server.connect().send(String.format("%09d\n", i)));
                }
                await().until(() -> server.logLines().size() == 5); // all five are being served
                try (TestClient sixth = server.connect()) {
                    sixth.send("000000006\n");
                    assertThat(sixth.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                }
                for (TestClient client : five) {
                    assertThat(client.isOpenAfter(Duration.ofMillis(50))).isTrue();
                    client.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
                assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2", "3", "4", "5");
                assertThat(server.server.stats().rejectedClients()).isEqualTo(1);
            }
        }

        @Test
        void freesASlotAsSoonAsItsConnectionEnds() throws Exception {
            try (TestServer server = TestServer.start(dir, "--max-clients", "2")) {
                TestClient first = server.connect().send("000000001\n");
                TestClient second = server.connect().send("000000002\n");
                await().until(() -> server.logLines().size() == 2);
                first.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                // The slot is free once the server has seen the end: a new client is served.
                await().until(() -> {
                    try (TestClient third = server.connect()) {
                        third.send("000000003\n").finish();
                        third.awaitClosedByServer(CLOSE_TIMEOUT);
                    }
                    return server.logLines().contains("3");
                });
                second.close();
            }
        }

        @Test
        void maxClientsOptionSetsTheLimit() throws Exception {
            try (TestServer server = TestServer.start(dir, "--max-clients", "1")) {
                try (TestClient first = server.connect().send("000000001\n")) {
                    await().until(() -> server.logLines().size() == 1);
                    try (TestClient second = server.connect()) {
                        second.send("000000002\n");
                        assertThat(second.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                    }
                }
                assertThat(server.logLines()).containsExactly("1");
            }
        }

        @Test
        void rejectedClientsNeverTakeASlot() throws Exception {
            try (TestServer server = TestServer.start(dir, "--max-clients", "1")) {
                try (TestClient holder = server.connect().send("000000001\n")) {
                    await().until(() -> server.logLines().size() == 1);
                    for (int i = 0; i < 50; i++) {
                        try (TestClient rejected = server.connect()) {
                            rejected.awaitClosedByServer(CLOSE_TIMEOUT);
                        }
                    }
                    holder.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
                await().until(() -> server.server.stats().connectedClients() == 0);
                try (TestClient after = server.connect().send("000000002\n").finish()) {
                    after.awaitClosedByServer(CLOSE_TIMEOUT);
                }
                assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2");
            }
        }
    }

    @Nested
    class Framing {

        @Test
        void acceptsLinesSplitAcrossReads() throws Exception {
            try (TestServer server = TestServer.start(dir); TestClient client = server.connect()) {
                byte[] bytes = LineDecoderTest.bytes("123456789\n000000042\nterminat");
                for (byte b : bytes) {
                    client.send(new byte[] {b});
                    Thread.sleep(1); // separate TCP segments, so separate reads for the server
                }
                await().until(() -> server.logLines().size() == 2);
                client.send("e\n");
                assertThat(server.server.awaitExit(5_000)).isTrue();
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
            try (TestServer server = TestServer.start(dir); TestClient client = server.connect()) {
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
            try (TestServer server = TestServer.start(dir); TestClient client = server.connect()) {
                client.send("111111111\n" + invalid + "222222222\n");
                assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat(server.logLines()).containsExactly("111111111");
                assertThat(server.server.stats().invalidClosed()).isEqualTo(1);
            }
        }

        @Test
        void closesOnAFinalLineWithoutNewlineAtEndOfStream() throws Exception {
            try (TestServer server = TestServer.start(dir); TestClient client = server.connect()) {
                client.send("111111111\n22222").finish();
                assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat(server.logLines()).containsExactly("111111111");
                assertThat(server.server.stats().invalidClosed()).isEqualTo(1);
            }
        }

        @Test
        void closesAtTheFirstByteThatCannotBeValidWithoutWaitingForANewline() throws Exception {
            try (TestServer server = TestServer.start(dir); TestClient client = server.connect()) {
                client.send("111111111\n12x"); // no newline, connection left open by the client
                assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat(server.logLines()).containsExactly("111111111");
            }
        }

        @Test
        void closesAnEndlessLineOfDigits() throws Exception {
            try (TestServer server = TestServer.start(dir); TestClient client = server.connect()) {
                byte[] digits = new byte[1 << 20];
                java.util.Arrays.fill(digits, (byte) '7');
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
            try (TestServer server = TestServer.start(dir); TestClient good = server.connect(); TestClient bad = server.connect()) {
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
            try (TestServer server = TestServer.start(dir)) {
                assertThat(Files.size(server.log)).isZero();
            }
        }

        @Test
        void stripsLeadingZerosByDefault() throws Exception {
            try (TestServer server = TestServer.start(dir); TestClient client = server.connect()) {
                client.send("007007009\n000000000\n000000010\n314159265\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(Files.readString(server.log)).isIn(permutationsOf("7007009\n", "0\n", "10\n", "314159265\n"));
            }
        }

        @Test
        void paddedFormatKeepsNineDigits() throws Exception {
            try (TestServer server = TestServer.start(dir, "--log-format", "padded"); TestClient client = server.connect()) {
                client.send("007007009\n000000000\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(Files.readString(server.log)).isIn(permutationsOf("007007009\n", "000000000\n"));
            }
        }

        @Test
        void logOptionChoosesThePath() throws Exception {
            Path elsewhere = dir.resolve("elsewhere.log");
            try (TestServer server = TestServer.start(dir, "--log", elsewhere.toString()); TestClient client = server.connect()) {
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
            try (TestServer server = TestServer.start(dir)) {
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
                assertThat(server.server.stats().uniqueTotal()).isEqualTo(distinct);
                assertThat(server.server.stats().duplicateTotal()).isEqualTo(4L * distinct);
            }
        }

        @Test
        void repeatsFromTheSameClientCountAsDuplicates() throws Exception {
            try (TestServer server = TestServer.start(dir); TestClient client = server.connect()) {
                client.send("000000001\n000000001\n000000002\n000000001\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2");
                assertThat(server.server.stats().duplicateTotal()).isEqualTo(2);
            }
        }
    }

    @Nested
    class Reports {

        private static final Pattern REPORT = Pattern.compile("Received \\d+ unique numbers, \\d+ duplicates\\. Unique total: \\d+");

        @Test
        void countsSinceThePreviousReportAndTheTotal() throws Exception {
            try (TestServer server = TestServer.start(dir, "--report-interval", "100ms")) {
                try (TestClient client = server.connect()) {
                    client.send("000000001\n000000002\n000000003\n000000001\n000000001\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
                await().until(() -> server.reportLines().stream().anyMatch(l -> l.endsWith("Unique total: 3")));
                int before = server.reportLines().size();
                try (TestClient client = server.connect()) {
                    client.send("000000004\n000000003\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
                await().until(() -> server.reportLines().stream().anyMatch(l -> l.endsWith("Unique total: 4")));
                List<String> lines = server.reportLines();
                assertThat(lines).allMatch(l -> REPORT.matcher(l).matches());
                long unique = lines.stream().mapToLong(l -> field(l, 1)).sum();
                long duplicates = lines.stream().mapToLong(l -> field(l, 2)).sum();
                assertThat(unique).isEqualTo(4);
                assertThat(duplicates).isEqualTo(3);
                assertThat(lines.subList(before, lines.size()).stream().mapToLong(l -> field(l, 2)).sum()).isEqualTo(1);
            }
        }

        @Test
        void keepsAFixedScheduleStartingOneIntervalAfterStart() throws Exception {
            long interval = 100;
            List<Long> arrivals = new CopyOnWriteArrayList<>();
            try (TestServer server = TestServer.start(dir, "--report-interval", interval + "ms")) {
                long start = System.nanoTime();
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    while (arrivals.size() < server.reportLines().size()) {
                        arrivals.add((System.nanoTime() - start) / 1_000_000);
                    }
                    return arrivals.size() >= 20;
                });
                // No report before its slot; the 20th lands near 20 intervals, not 20 intervals
                // plus 20 delays (a drifting schedule).
                assertThat(arrivals.get(0)).isGreaterThanOrEqualTo(interval - 20);
                assertThat(arrivals.get(19)).isBetween(20 * interval - 20, 20 * interval + 1_000);
                assertThat(server.reportLines().get(0)).isEqualTo("Received 0 unique numbers, 0 duplicates. Unique total: 0");
            }
        }

        private long field(String line, int group) {
            var m = Pattern.compile("Received (\\d+) unique numbers, (\\d+) duplicates\\. Unique total: (\\d+)").matcher(line);
            assertThat(m.matches()).isTrue();
            return Long.parseLong(m.group(group));
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
            try (TestServer server = TestServer.start(dir, "--log-format", "padded")) {
                Set<String> expectedLog = new HashSet<>();
                for (int c = 0; c < 300; c++) {
                    SplittableRandom random = new SplittableRandom(seed + c);
                    byte[] stream = ProtocolModel.randomStream(random, c * 1000, false);
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
                            assertThat(client.isOpenAfter(Duration.ofMillis(2))).as(what).isTrue();
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
            try (TestServer server = TestServer.start(dir, "--idle-timeout", "300ms"); TestClient idle = server.connect()) {
                idle.send("000000001\n");
                long start = System.nanoTime();
                assertThat(idle.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
                assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(250);
                assertThat(server.logLines()).containsExactly("1");
                await().until(() -> server.server.stats().connectedClients() == 0);
            }
        }

        @Test
        void keepsAClientThatKeepsSending() throws Exception {
            try (TestServer server = TestServer.start(dir, "--idle-timeout", "300ms"); TestClient busy = server.connect()) {
                for (int i = 0; i < 20; i++) {
                    busy.send(String.format("%09d\n", i));
                    Thread.sleep(50);
                }
                assertThat(busy.isOpenAfter(Duration.ofMillis(10))).isTrue();
                busy.finish().awaitClosedByServer(CLOSE_TIMEOUT);
                assertThat(server.logLines()).hasSize(20);
            }
        }

        @Test
        void isOffByDefault() throws Exception {
            try (TestServer server = TestServer.start(dir); TestClient idle = server.connect()) {
                idle.send("000000001\n");
                assertThat(idle.isOpenAfter(Duration.ofMillis(1_500))).isTrue();
            }
        }
    }

    @Nested
    class Terminate {

        @Test
        void stopsAcceptingDisconnectsEveryClientAndExitsZero() throws Exception {
            TestServer server = TestServer.start(dir);
            TestClient idle = server.connect();
            TestClient busy = server.connect().send("000000001\n");
            await().until(() -> server.logLines().size() == 1);
            try (TestClient terminator = server.connect()) {
                terminator.send("000000002\nterminate\n000000003\n");
                assertThat(server.server.awaitExit(5_000)).isTrue();
            }
            assertThat(server.server.exitStatus()).isZero();
            assertThat(idle.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
            assertThat(busy.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
            assertThatThrownBy(() -> TestClient.connect(server.port())).isInstanceOf(ConnectException.class);
            assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2"); // nothing after terminate
        }

        @Test
        void aTerminateLineSplitAcrossReadsStillCounts() throws Exception {
            TestServer server = TestServer.start(dir);
            try (TestClient client = server.connect()) {
                client.send("termi");
                Thread.sleep(20);
                client.send("nate\n");
                assertThat(server.server.awaitExit(5_000)).isTrue();
            }
            assertThat(server.server.exitStatus()).isZero();
        }
    }
}
