package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientSessionTest {

    private static final byte[] LF = {'\n'};

    @TempDir
    Path dir;

    /** A read that fills the whole buffer with lines (26,214 of them) is stored whole. */
    @Test
    void storesAReadThatFillsTheWholeBuffer() throws Exception {
        int lines = SessionBuffers.READ_BUFFER_BYTES / 10;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            text.append(String.format("%09d\n", i * 3));
        }
        Stats stats = new Stats();
        List<ClientSession> ended = new ArrayList<>();
        try (NumberLog log = NumberLog.open(dir.resolve("numbers.log"), LF, FsyncPolicy.NEVER, UnaryOperator.identity())) {
            ClientSession.Shared shared = new ClientSession.Shared(new SeenNumbers(1 << 20), log, LogFormat.STRIPPED, stats, new BatchesInFlight(1));
            ClientSession session = new ClientSession(0, new LineDecoder(LF), shared, new SessionBuffers(10), new ClientSession.Events() {
                @Override
                public void terminate(String reason) {
                    throw new AssertionError("no terminate was sent");
                }

                @Override
                public void ended(ClientSession session) {
                    ended.add(session);
                }
            });
            ClientSessionPropertyTest.PiecewiseChannel channel =
                    new ClientSessionPropertyTest.PiecewiseChannel(List.of(text.toString().getBytes(StandardCharsets.US_ASCII)));
            session.attach(channel, "one full read");
            session.serve();
            assertThat(ended).containsExactly(session);
        }
        assertThat(stats.uniqueTotal()).isEqualTo(lines);
        assertThat(Files.readAllLines(dir.resolve("numbers.log"))).hasSize(lines).contains("0", String.valueOf((lines - 1) * 3));
    }
}
