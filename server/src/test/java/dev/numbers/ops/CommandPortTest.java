package dev.numbers.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The command port on its own, over loopback, with a fixed status. */
class CommandPortTest {

    static final Supplier<ServerStatus> STATUS =
            () -> new ServerStatus("run-id", 61, 3, 567_231, 1024, 1_500_000, 2, 4096, 7, 1_000_000, false);

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private static final int READ_TIMEOUT_MS = 5_000;
    private static final long HOUR_MS = 3_600_000;

    /** Side ports serving one port, as a test holds them. */
    record Served(SidePorts ports, int port) implements AutoCloseable {
        int clientCount() {
            return ports.connectionCount();
        }

        @Override
        public void close() {
            ports.close();
        }
    }

    /** A command client over a plain socket: lines out, lines back, 5 s at most per read. */
    static final class Client implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;
        final OutputStream out;

        Client(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            out = socket.getOutputStream();
        }

        Client send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return this;
        }

        String ask(String command) throws IOException {
            return send(command + "\n").in.readLine();
        }

        /** True once the server has closed this connection: end of stream, or a reset. */
        boolean closedByServer() throws IOException {
            try {
                return in.readLine() == null;
            } catch (SocketException reset) {
                return true;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static Served open(SidePorts.Limits limits) throws IOException {
        SidePorts ports = new SidePorts(STATUS);
        int port = ports.bindCommandPort(LOOPBACK, limits);
        ports.start(runnable -> new Thread(runnable, "side-ports-test"));
        return new Served(ports, port);
    }

    @Test
    void aClientThatConnectedBeforeThePortWasServedIsAnsweredOnceItIs() throws Exception {
        SidePorts ports = new SidePorts(STATUS);
        int port = ports.bindCommandPort(LOOPBACK, true); // as the server binds it, before Netty is up
        try (ports; Client early = new Client(port).send("WHY\n")) {
            ports.start(runnable -> new Thread(runnable, "side-ports-test"));
            assertThat(early.in.readLine()).isEqualTo("42");
            assertThat(ports.connectionCount()).isEqualTo(1);
        }
    }

    @Test
    void aCommandClientThatNeverReadsItsRepliesIsClosedAndFreesItsSlot() throws Exception {
        try (Served port = open(new SidePorts.Limits(SidePorts.COMMAND_LIMITS.maxConnections(), HOUR_MS, 300, HOUR_MS));
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
            try (Client next = new Client(port.port())) {
                assertThat(next.ask("WHY")).isEqualTo("42");
            }
        }
    }

    @Test
    void aClientThatPipelinesManyCommandsAndReadsGetsEveryReply() throws Exception {
        int commands = 20_000;
        try (Served port = open(SidePorts.COMMAND_LIMITS);
             Client client = new Client(port.port())) {
            Thread sender = new Thread(() -> {
                try {
                    client.send("STATS\n".repeat(commands));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            sender.start();
            for (int i = 0; i < commands; i++) {
                assertThat(client.in.readLine()).as("reply %d", i).startsWith("unique_total=567231 ");
            }
            sender.join(10_000);
            assertThat(client.ask("WHY")).isEqualTo("42");
        }
    }

    @Test
    void aFullPortOfClientsThatSentOneByteStillAnswersANewClient() throws Exception {
        try (Served port = open(SidePorts.COMMAND_LIMITS)) {
            List<Client> holders = new ArrayList<>();
            try {
                for (int i = 0; i < SidePorts.COMMAND_LIMITS.maxConnections(); i++) {
                    holders.add(new Client(port.port()).send("W")); // and then nothing, for a minute
                }
                await().until(() -> port.clientCount() == SidePorts.COMMAND_LIMITS.maxConnections());
                await().atMost(Duration.ofSeconds(5)).until(() -> {
                    try (Client fresh = new Client(port.port())) {
                        return "42".equals(fresh.ask("WHY"));
                    }
                });
            } finally {
                for (Client holder : holders) {
                    holder.close();
                }
            }
        }
    }

    @Test
    void aClientThatDripsOneBytePerTenthOfASecondIsCutOffAtTheRequestDeadline() throws Exception {
        try (Served port = open(new SidePorts.Limits(SidePorts.COMMAND_LIMITS.maxConnections(), HOUR_MS, 500, HOUR_MS));
             Client dripper = new Client(port.port())) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread drip = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        dripper.send("W"); // every byte would reset an idle timer
                        Thread.sleep(100);
                    }
                } catch (IOException | InterruptedException closed) {
                    // Cut off by the server (the point of the test), or stopped by it.
                }
            });
            drip.start();
            try {
                assertThat(dripper.in.readLine()).isEqualTo("ERROR line not complete within 500 ms; closing");
                assertThat(dripper.closedByServer()).isTrue();
            } finally {
                stop.set(true);
                drip.interrupt();
                drip.join(5_000);
            }
        }
    }

    @Test
    void anIdleClientIsToldAndClosed() throws Exception {
        try (Served port = open(new SidePorts.Limits(SidePorts.COMMAND_LIMITS.maxConnections(), 300, HOUR_MS, HOUR_MS));
             Client idle = new Client(port.port())) {
            assertThat(idle.ask("WHY")).isEqualTo("42");
            assertThat(idle.in.readLine()).startsWith("ERROR idle for ").endsWith("; closing");
            assertThat(idle.closedByServer()).isTrue();
        }
    }

    @Test
    void overTheLimitANewClientIsToldToTryAgainLater() throws Exception {
        try (Served port = open(new SidePorts.Limits(2, HOUR_MS, HOUR_MS, HOUR_MS));
             Client one = new Client(port.port()); Client two = new Client(port.port());
             Client three = new Client(port.port())) {
            assertThat(three.in.readLine()).isEqualTo("ERROR too many command clients (2); try again later");
            assertThat(three.closedByServer()).isTrue();
            assertThat(one.ask("WHY")).as("the first two keep their slots").isEqualTo("42");
            assertThat(two.ask("WHY")).isEqualTo("42");
        }
    }

    @Test
    void aNewClientClosesTheOneQuietLongestWhenThePortIsFull() throws Exception {
        try (Served port = open(new SidePorts.Limits(1, HOUR_MS, HOUR_MS, 0));
             Client quiet = new Client(port.port())) {
            assertThat(quiet.ask("WHY")).isEqualTo("42");
            try (Client fresh = new Client(port.port())) {
                assertThat(fresh.ask("WHY")).isEqualTo("42");
                assertThat(quiet.in.readLine()).startsWith("ERROR too many command clients (1)");
                assertThat(quiet.closedByServer()).isTrue();
            }
        }
    }

    @Test
    void closeStopsAcceptingAndClosesEveryClient() throws Exception {
        try (Served port = open(SidePorts.COMMAND_LIMITS);
             Client asking = new Client(port.port()); Client midLine = new Client(port.port())) {
            int number = port.port();
            assertThat(asking.ask("WHY")).isEqualTo("42");
            midLine.send("STA");
            await().until(() -> port.clientCount() == 2);
            port.close();
            assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), number).close())
                    .isInstanceOf(ConnectException.class);
            assertThat(asking.closedByServer()).isTrue();
            assertThat(midLine.closedByServer()).isTrue();
            assertThat(port.clientCount()).isZero();
        }
    }
}
