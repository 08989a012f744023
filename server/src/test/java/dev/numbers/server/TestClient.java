package dev.numbers.server;

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
