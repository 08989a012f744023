package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The number clients: one {@link ClientSession} per slot, a client thread per slot, and the
 * acceptor, which hands each new connection to a free slot or, when every slot is busy, closes
 * it at once, unread.
 *
 * <p>The constructor starts nothing; {@link #startThreads}
 * and {@link #startAccepting} start the threads, {@link #stopAccepting} and
 * {@link #disconnectAndAwait} stop them, in the order {@link NumberServer} gives.
 */
final class ClientSlots implements ClientSession.Events {

    /** The acceptor's pause after a failed accept (out of file descriptors, say): no busy loop. */
    private static final long ACCEPT_RETRY_MS = 100;
    /** How long a stop waits for the client threads to finish the batches they have read. */
    private static final long STOP_TIMEOUT_SECONDS = 30;

    private final ClientSession[] sessions;
    private final ArrayBlockingQueue<ClientSession> free;
    private final Stats stats;
    private final Consumer<String> onTerminate;
    private ExecutorService clientThreads;
    private ServerSocketChannel listener;
    private Thread acceptor;

    /** @param onTerminate the server's shutdown request, for a client's {@code terminate} */
    ClientSlots(SessionBuffers[] buffers, LineDecoder decoder, NumberStore store, Consumer<String> onTerminate) {
        this.sessions = new ClientSession[buffers.length];
        this.free = new ArrayBlockingQueue<>(buffers.length);
        this.stats = store.stats();
        this.onTerminate = onTerminate;
        for (int slot = 0; slot < buffers.length; slot++) {
            sessions[slot] = new ClientSession(slot, decoder, store, buffers[slot], this);
            free.add(sessions[slot]);
        }
    }

    /** Starts one client thread per slot, so that no thread is made per client. */
    void startThreads() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(sessions.length, sessions.length, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), Threads.named("client"));
        pool.prestartAllCoreThreads();
        clientThreads = pool;
    }

    /** Starts accepting connections on {@code port}, which is bound and listening. */
    void startAccepting(ServerSocketChannel port) {
        listener = port;
        acceptor = Threads.named("acceptor").newThread(this::acceptLoop);
        acceptor.start();
    }

    /** Closes the port and waits for the acceptor to end: no client is accepted after this. */
    void stopAccepting() throws IOException, InterruptedException {
        listener.close();
        acceptor.join();
    }

    /**
     * Disconnects every client, lets each client thread finish storing the batch it has read,
     * and waits for the threads to end. {@code beforeWaiting} runs between the two (the log's
     * {@code abandonRetries}, so that a failing disk cannot hold the stop).
     */
    void disconnectAndAwait(Runnable beforeWaiting) throws InterruptedException {
        for (ClientSession session : sessions) {
            session.disconnect();
        }
        beforeWaiting.run();
        clientThreads.shutdown(); // not shutdownNow: an interrupt would close the log's channel
        if (!clientThreads.awaitTermination(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            Diagnostics.error("client threads still running " + STOP_TIMEOUT_SECONDS + " s after the stop began");
        }
    }

    /** Disconnects the clients that have sent nothing for {@code timeoutNanos}: the idle watchdog. */
    void disconnectIdle(long timeoutNanos) {
        long now = System.nanoTime();
        for (ClientSession session : sessions) {
            session.disconnectIfIdle(now, timeoutNanos);
        }
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel connection;
            try {
                connection = listener.accept();
            } catch (ClosedChannelException e) {
                return; // stopAccepting closed the port
            } catch (IOException e) {
                if (!listener.isOpen()) {
                    return;
                }
                Diagnostics.warn("accept failed: " + Diagnostics.describe(e) + "; retrying in " + ACCEPT_RETRY_MS + " ms");
                pause();
                continue;
            }
            String remote = describeRemote(connection);
            ClientSession session = free.poll();
            if (session == null) {
                stats.clientRejected();
                closeQuietly(connection);
                Diagnostics.info("client " + remote + " rejected: all " + sessions.length + " slots are busy");
                continue;
            }
            stats.clientConnected();
            Diagnostics.info("client " + remote + " connected, " + stats.connectedClients() + " of " + sessions.length);
            session.attach(connection, remote);
            clientThreads.execute(session::serve);
        }
    }

    @Override
    public void terminate(String reason) {
        onTerminate.accept(reason);
    }

    @Override
    public void ended(ClientSession session) {
        stats.clientDisconnected();
        free.add(session);
    }

    private static void pause() {
        try {
            Thread.sleep(ACCEPT_RETRY_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String describeRemote(SocketChannel connection) {
        try {
            return String.valueOf(connection.getRemoteAddress());
        } catch (IOException e) {
            return "(unknown address: " + Diagnostics.describe(e) + ")";
        }
    }

    private static void closeQuietly(SocketChannel connection) {
        try {
            connection.close();
        } catch (IOException ignored) {
            // A connection refused on arrival: if even the close fails, nothing is left to do.
        }
    }
}
