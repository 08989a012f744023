package dev.numbers.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SinkTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final StringWriter errText = new StringWriter();
    private final AtomicReference<Throwable> serveFailure = new AtomicReference<>();
    private Sink sink;
    private Thread serving;

    @AfterEach
    void stopSink() throws InterruptedException {
        if (sink != null) {
            sink.close();
            serving.join(10_000);
        }
    }

    @Test
    void saysHowToStopItThenSummarisesConnectionsAndBytesWhenStopped() throws Exception {
        int port = startSink();
        for (int i = 0; i < 2; i++) {
            sendAndAwaitClose(port, 1000);
        }

        sink.stop("the test");

        await().until(() -> !serving.isAlive());
        assertThat(serveFailure.get()).isNull();
        assertThat(errText.toString().lines()).satisfiesExactly(
                l -> assertThat(l).isEqualTo("sink: listening on 127.0.0.1:" + port
                        + ", reading and discarding; Ctrl+C or SIGTERM stops it"),
                l -> assertThat(l).matches("sink: stopped by the test: served 2 connections, read 2000 bytes "
                        + "in \\d+\\.\\d{3} s of reading: \\d+\\.\\d MB/s"));
    }

    @Test
    void aStopClosesOpenConnectionsAndReturnsAtOnce() throws Exception {
        int port = startSink();
        try (SocketChannel client = SocketChannel.open(new InetSocketAddress(LOOPBACK, port))) {
            client.write(ByteBuffer.wrap(new byte[100]));
            await().until(() -> sink.summary().contains("read 100 bytes"));

            sink.stop("the test");

            await().until(() -> !serving.isAlive());
            awaitClosedBySink(client);
        }
        assertThat(errText.toString().lines()).last().asString()
                .startsWith("sink: stopped by the test: served 1 connection, read 100 bytes in ");
    }

    @Test
    void refusesAPortOutOfRangeNamingTheOption() {
        assertThatThrownBy(() -> Sink.open(LOOPBACK, 65_536))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--port must be 0 to 65535, got 65536");
    }

    private int startSink() throws IOException {
        sink = Sink.open(LOOPBACK, 0);
        PrintWriter err = new PrintWriter(errText, true);
        serving = new Thread(() -> {
            try {
                sink.serve(err);
            } catch (IOException | RuntimeException e) {
                serveFailure.set(e);
            }
        }, "test-sink");
        serving.start();
        await().until(() -> errText.toString().contains("listening"));
        return sink.address().getPort();
    }

    /** Sends {@code bytes}, ends the stream, and waits until the sink closes: it has read them all then. */
    private static void sendAndAwaitClose(int port, int bytes) throws IOException {
        try (SocketChannel client = SocketChannel.open(new InetSocketAddress(LOOPBACK, port))) {
            ByteBuffer payload = ByteBuffer.wrap(new byte[bytes]);
            while (payload.hasRemaining()) {
                client.write(payload);
            }
            client.shutdownOutput();
            awaitClosedBySink(client);
        }
    }

    /** Reads until the sink closes the connection (end of stream, or a reset); fails after 10 s. */
    private static void awaitClosedBySink(SocketChannel client) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            ByteBuffer buffer = ByteBuffer.allocate(64);
            try {
                while (client.read(buffer) >= 0) {
                    buffer.clear();
                }
            } catch (IOException e) {
                assertThat(e).hasMessageContaining("reset"); // a close with data unread: a close too
            }
        });
    }
}
