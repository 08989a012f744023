package dev.numbers.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The command port on its own, over loopback, with a fixed status. */
class CommandPortTest {

    static final Supplier<ServerStatus> STATUS =
            () -> new ServerStatus("run-id", 61, 3, 567_231, 1024, 1_500_000, 2, 1, 4096, 7, 1_000_000, false);

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @Test
    void aCommandClientThatNeverReadsItsRepliesIsClosedAndFreesItsSlot() throws Exception {
        try (CommandPort port = CommandPort.open(LOOPBACK, STATUS, Executors.defaultThreadFactory(), 300);
             Socket greedy = new Socket(InetAddress.getLoopbackAddress(), port.port())) {
            Thread sender = new Thread(() -> {
                byte[] commands = "STATS\n".repeat(100_000).getBytes(StandardCharsets.US_ASCII);
                try {
                    while (true) {
                        greedy.getOutputStream().write(commands); // replies pile up unread
                    }
                } catch (IOException closedByTheServer) {
                    // The point of the test.
                }
            });
            sender.start();
            await().until(() -> port.clientCount() == 1);
            await().atMost(Duration.ofSeconds(20)).until(() -> port.clientCount() == 0);
            sender.join(10_000);
            assertThat(sender.isAlive()).as("the server closed the greedy client").isFalse();
            try (Socket next = new Socket(InetAddress.getLoopbackAddress(), port.port())) {
                next.getOutputStream().write("WHY\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader in = new BufferedReader(new InputStreamReader(next.getInputStream(), StandardCharsets.US_ASCII));
                assertThat(in.readLine()).isEqualTo("42");
            }
        }
    }
}
