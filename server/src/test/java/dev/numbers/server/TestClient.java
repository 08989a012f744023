package dev.numbers.server;

import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A number client over a real loopback socket. */
final class TestClient implements AutoCloseable {

    private final Socket socket;

    private TestClient(Socket socket) {
        this.socket = socket;
    }

    static TestClient connect(int port) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setTcpNoDelay(true);
        return new TestClient(socket);
    }

    TestClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    TestClient send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return this;
    }

    /** Sends end of stream (a half-close): the client has nothing more to say. */
    TestClient finish() throws IOException {
        socket.shutdownOutput();
        return this;
    }

    /**
     * Waits until the server closes the connection and returns what it wrote before that
     * (the protocol says: nothing). A reset counts as closed.
     *
     * @throws AssertionError if the connection is still open after {@code timeout}
     */
    byte[] awaitClosedByServer(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                received.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("server did not close the connection within " + timeout, e);
        } catch (SocketException e) {
            // Connection reset: the server closed with unread data in its receive buffer.
        }
        return received.toByteArray();
    }

    /**
     * Waits until the server has read every byte sent so far: its socket's receive queue, as
     * {@code ss} shows it, is empty. What is sent next is then a read of its own.
     */
    TestClient awaitReadByServer() {
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2)).atMost(Duration.ofSeconds(10))
                .until(() -> serverReceiveQueue() == 0);
        return this;
    }

    /** Bytes waiting in the server's end of this connection; -1 if ss does not show it. */
    private long serverReceiveQueue() throws IOException, InterruptedException {
        Process ss = new ProcessBuilder("ss", "-tnH", "state", "established",
                "( sport = :" + socket.getPort() + " and dport = :" + socket.getLocalPort() + " )").start();
        String shown = new String(ss.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        ss.waitFor();
        return shown.isEmpty() ? -1 : Long.parseLong(shown.split("\\s+")[0]);
    }

    /** True if ss (iproute2), which {@link #awaitReadByServer} asks, is on this machine. */
    static boolean canSeeServerQueues() {
        try {
            return new ProcessBuilder("ss", "-V").start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** True if the server has not closed the connection within {@code wait}. */
    boolean isOpenAfter(Duration wait) throws IOException {
        socket.setSoTimeout((int) wait.toMillis());
        try {
            return socket.getInputStream().read() >= 0;
        } catch (SocketTimeoutException e) {
            return true;
        } catch (SocketException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
