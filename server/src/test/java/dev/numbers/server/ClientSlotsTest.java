package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The idle watchdog, driven by the test's own clock: a client is cut only after the watchdog
 * has seen it silent, in one read, for the whole timeout; a gap between two looks (a pause of
 * the process) starts every count again, and so does a byte read.
 */
class ClientSlotsTest {

    private static final byte[] LF = {'\n'};
    private static final long TIMEOUT = 1_000_000_000L;
    private static final long LOOK = TIMEOUT / 4;

    @TempDir
    Path dir;

    private NumberLog log;
    private int port;
    private ClientSlots slots;

    @BeforeEach
    void startOneSlot() throws Exception {
        log = NumberLog.open(dir.resolve("numbers.log"), LF, FsyncPolicy.NEVER, UnaryOperator.identity());
        Stats stats = new Stats();
        slots = new ClientSlots(new SessionBuffers[] {new SessionBuffers(10)}, new LineDecoder(LF), stats, reason -> { });
        port = slots.listen(InetAddress.getLoopbackAddress(), 0);
        slots.startThreads(new ClientSession.Shared(new SeenNumbers(1 << 20), log, LogFormat.STRIPPED, stats, new BatchesInFlight(1)));
        slots.startAccepting();
    }

    @AfterEach
    void stop() throws Exception {
        slots.stopAccepting();
        slots.disconnectAndAwait(() -> { });
        log.close();
    }

    /** Connects a client whose first number is logged: its session now waits in its next read. */
    private TestClient reading() throws Exception {
        TestClient client = TestClient.connect(port);
        client.send("000000001\n");
        await().until(() -> java.nio.file.Files.size(dir.resolve("numbers.log")) == 2);
        return client;
    }

    /** Looks at {@code t} and then every quarter of the timeout up to {@code until}. */
    private void look(long from, long until) {
        for (long t = from; t <= until; t += LOOK) {
            slots.disconnectIdle(TIMEOUT, t);
        }
    }

    @Test
    void aClientSeenSilentForTheTimeoutIsCut() throws Exception {
        try (TestClient client = reading()) {
            look(0, TIMEOUT);
            assertThat(client.awaitClosedByServer(Duration.ofSeconds(5))).isEmpty();
        }
    }

    @Test
    void aGapBetweenTwoLooksIsAPauseOfTheProcessAndCountsNoSilence() throws Exception {
        try (TestClient client = reading()) {
            look(0, LOOK);
            slots.disconnectIdle(TIMEOUT, 40 * TIMEOUT); // the process was stopped for 40 timeouts
            look(40 * TIMEOUT + LOOK, 40 * TIMEOUT + TIMEOUT - LOOK);
            client.send("000000002\n"); // still served: read, logged
            await().until(() -> java.nio.file.Files.size(dir.resolve("numbers.log")) == 4);
        }
    }

    @Test
    void aByteReadStartsTheCountAgain() throws Exception {
        try (TestClient client = reading()) {
            look(0, TIMEOUT - LOOK);
            client.send("000000002\n");
            await().until(() -> java.nio.file.Files.size(dir.resolve("numbers.log")) == 4);
            look(TIMEOUT, 2 * TIMEOUT - LOOK);
            client.send("000000003\n"); // not cut: the count started again at the read
            await().until(() -> java.nio.file.Files.size(dir.resolve("numbers.log")) == 6);
        }
    }
}
