package dev.numbers.load;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A null server: accepts any number of connections, reads each to its end into a buffer that is
 * thrown away, then closes it. It does what numbers-server does minus the work, so a load run
 * against it measures the ceiling this machine's loopback and the load generator set.
 * Runs until the process is stopped.
 */
final class Sink {

    /** The server's read size (ClientSession.READ_BUFFER_BYTES), so that only the work differs. */
    private static final int READ_BUFFER_BYTES = 256 * 1024;

    private Sink() {
    }

    static void run(InetSocketAddress address, PrintStream err) throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(address, 128);
            err.println("sink: listening on " + listener.getLocalAddress() + ", reading and discarding");
            err.flush();
            while (true) {
                SocketChannel connection;
                try {
                    connection = listener.accept();
                } catch (ClosedChannelException e) {
                    return;
                }
                Thread reader = new Thread(() -> drain(connection, err), "sink-reader");
                reader.setDaemon(true);
                reader.start();
            }
        }
    }

    private static void drain(SocketChannel connection, PrintStream err) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
        try (connection) {
            while (connection.read(buffer) >= 0) {
                buffer.clear();
            }
        } catch (IOException e) {
            err.println("sink: connection failed: " + e.getMessage());
        }
    }
}
