package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import jdk.net.ExtendedSocketOptions;

/**
 * The number clients: one {@link ClientSession} per slot, a client thread per slot, and the
 * acceptor, which accepts a connection only into a free slot: it first waits for a slot, then
 * accepts. While every slot is busy, new connections wait in the kernel's accept queue, unread,
 * and are served in the order they arrived as slots free; a client that reconnects at once is
 * never turned away. A connection its client closed while it waited is still read to its end.
 *
 * <p>Every number connection has TCP keepalive on ({@link #KEEPALIVE_IDLE_SECONDS} and so on),
 * so that a client machine that vanishes frees its slot about a minute later.
 *
 * <p>The constructor starts nothing; {@link #startThreads}
 * and {@link #startAccepting} start the threads, {@link #stopAccepting} and
 * {@link #disconnectAndAwait} stop them, in the order {@link NumberServer} gives.
 */
final class ClientSlots implements ClientSession.Events {

    /** The acceptor's pause after a failed accept (out of file descriptors, say): no busy loop. */
    private static final long ACCEPT_RETRY_MS = 100;
    /**
     * Connections the kernel holds for the acceptor: those that arrive while every slot is busy,
     * and a start's early clients, wait there. 4,096 lets a few thousand clients that reconnect
     * at once queue without a refused connection (Linux caps it at net.core.somaxconn, 4,096 by
     * default); beyond it the kernel drops the new connection's handshake, and the client's
     * connect retries it for a while before it fails.
     */
    static final int BACKLOG = 4_096;
    /** The idle watchdog looks a quarter of the timeout apart, within these bounds. */
    private static final long WATCHDOG_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long WATCHDOG_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long a stop waits for the client threads to finish the batches they have read. */
    private static final long STOP_TIMEOUT_SECONDS = 30;
    /**
     * Keepalive: the first probe after this much silence, then one every interval; after
     * {@link #KEEPALIVE_PROBES} unanswered the kernel resets the connection and the slot is free:
     * 30 + 3 x 10 = 60 s after a vanished client's last packet.
     */
    static final int KEEPALIVE_IDLE_SECONDS = 30;
    static final int KEEPALIVE_INTERVAL_SECONDS = 10;
    static final int KEEPALIVE_PROBES = 3;

    private final SessionBuffers[] buffers;
    private final LineDecoder decoder;
    private final ClientSession[] sessions;
    private final ArrayBlockingQueue<ClientSession> free;
    private final Stats stats;
    private final Consumer<String> onTerminate;
    private ExecutorService clientThreads;
    private ServerSocketChannel listener;
    private Thread acceptor;
    /** The idle watchdog's own view of each slot (its thread only): the read it last saw, since when. */
    private final long[] watchedSequence;
    private final long[] quietSinceNanos;
    private long lastWatchNanos = System.nanoTime();
    /** A client sent terminate: the acceptor takes no slot any more (the stop closes the port soon after). */
    private volatile boolean terminating;

    /** @param onTerminate the server's shutdown request, for a client's {@code terminate} */
    ClientSlots(SessionBuffers[] buffers, LineDecoder decoder, Stats stats, Consumer<String> onTerminate) {
        this.buffers = buffers;
        this.decoder = decoder;
        this.sessions = new ClientSession[buffers.length];
        this.free = new ArrayBlockingQueue<>(buffers.length);
        this.stats = stats;
        this.onTerminate = onTerminate;
        this.watchedSequence = new long[buffers.length];
        this.quietSinceNanos = new long[buffers.length];
    }

    /**
     * Makes one session per slot, sharing {@code shared}, and starts one client thread per slot,
     * so that no thread is made per client.
     */
    void startThreads(ClientSession.Shared shared) {
        for (int slot = 0; slot < buffers.length; slot++) {
            sessions[slot] = new ClientSession(slot, decoder, shared, buffers[slot], this);
            free.add(sessions[slot]);
        }
        ThreadPoolExecutor pool = new ThreadPoolExecutor(sessions.length, sessions.length, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), Threads.named("client"));
        pool.prestartAllCoreThreads();
        clientThreads = pool;
    }

    /**
     * Binds the number port on {@code host} (null: all interfaces) and listens; nobody is accepted
     * until {@link #startAccepting}: early clients wait in the backlog. IPv4 only for an IPv4
     * address (0.0.0.0 included, which on a dual-stack socket would take IPv6 clients too).
     *
     * @return the port bound
     * @throws StartupException if it cannot: {@code cannot listen on port 4000 (all interfaces): address already in use}
     */
    int listen(InetAddress host, int port) throws StartupException {
        try {
            ServerSocketChannel channel = host instanceof Inet4Address
                    ? ServerSocketChannel.open(StandardProtocolFamily.INET) : ServerSocketChannel.open();
            try {
                listener = channel.bind(NumberServer.address(host, port), BACKLOG);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | UnsupportedAddressTypeException e) {
            throw new StartupException("cannot listen on port " + port + " (" + (host == null ? "all interfaces"
                    : host.getHostAddress()) + "): " + Diagnostics.describe(e), e);
        }
        return port();
    }

    /** The port listened on: as configured, or the one picked for port 0. */
    int port() {
        return listener.socket().getLocalPort();
    }

    /** Where it listens, for the started line: {@code 127.0.0.1}, {@code all interfaces (IPv4 and IPv6)}, {@code all IPv4 interfaces}. */
    String describeBound() {
        InetAddress local = listener.socket().getInetAddress();
        if (!local.isAnyLocalAddress()) {
            return local.getHostAddress();
        }
        return local instanceof Inet6Address ? "all interfaces (IPv4 and IPv6)" : "all IPv4 interfaces";
    }

    /** Starts accepting connections on the port {@link #listen} bound. */
    void startAccepting() {
        acceptor = Threads.named("acceptor").newThread(this::acceptLoop);
        acceptor.start();
    }

    /** Closes the number port (before the acceptor started: a start that failed). */
    void closePort() throws IOException {
        if (listener != null) {
            listener.close();
        }
    }

    /**
     * Closes the port and waits for the acceptor to end: no client is accepted after this.
     * Connections still waiting in the accept queue are reset by the kernel, unread.
     */
    void stopAccepting() throws IOException, InterruptedException {
        listener.close();
        acceptor.interrupt(); // it may be waiting for a free slot rather than in accept
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

    /**
     * Starts the idle watchdog on {@code timer}: {@link #disconnectIdle} every quarter of the
     * timeout, {@link #WATCHDOG_MIN_NANOS} to {@link #WATCHDOG_MAX_NANOS} apart.
     */
    void watchIdle(ScheduledExecutorService timer, Duration timeout) {
        long timeoutNanos = timeout.toNanos();
        Threads.every(timer, Math.max(WATCHDOG_MIN_NANOS, Math.min(WATCHDOG_MAX_NANOS, timeoutNanos / 4)), "the idle watchdog",
                () -> disconnectIdle(timeoutNanos, System.nanoTime()));
    }

    /**
     * The idle watchdog, called every quarter of the timeout by one thread, {@code now} the
     * {@link System#nanoTime} of the call: disconnects each
     * client whose thread it has seen wait in the same read, without a byte, for
     * {@code timeoutNanos}. Silence is counted by what the watchdog saw, not by the clock alone:
     * a gap between two of its calls of more than half the timeout means the process (or this
     * thread) did not run, a pause in which clients may well have sent what now waits unread in
     * the kernel; then every count starts again. A client whose batch waits for a failing disk
     * is not in a read, so never idle.
     */
    void disconnectIdle(long timeoutNanos, long now) {
        boolean paused = now - lastWatchNanos > timeoutNanos / 2;
        lastWatchNanos = now;
        for (int slot = 0; slot < sessions.length; slot++) {
            long sequence = sessions[slot].readSequence();
            if (paused || (sequence & 1) == 0 || sequence != watchedSequence[slot]) {
                watchedSequence[slot] = sequence;
                quietSinceNanos[slot] = now;
            } else if (now - quietSinceNanos[slot] >= timeoutNanos) {
                sessions[slot].disconnectIfStillWaiting(sequence, now - quietSinceNanos[slot]);
            }
        }
    }

    private void acceptLoop() {
        ClientSession session = null;
        while (true) {
            try {
                if (session == null) {
                    session = free.take(); // no free slot: connections wait in the accept queue
                }
                if (terminating) {
                    return;
                }
                SocketChannel connection = listener.accept();
                keepAlive(connection);
                String remote = describeRemote(connection);
                stats.clientConnected();
                Diagnostics.client("client " + remote + " connected, " + stats.connectedClients() + " of " + sessions.length);
                session.attach(connection, remote);
                clientThreads.execute(session::serve);
                session = null;
            } catch (ClosedChannelException | InterruptedException e) {
                return; // stopAccepting closed the port (an interrupt closes it too)
            } catch (IOException e) {
                if (!listener.isOpen()) {
                    return;
                }
                Diagnostics.warn("accept failed: " + Diagnostics.describe(e) + "; retrying in " + ACCEPT_RETRY_MS + " ms");
                if (!pause()) {
                    return;
                }
            }
        }
    }

    /** TCP keepalive, so that a vanished client frees its slot; the timings where the platform has them. */
    private static void keepAlive(SocketChannel connection) {
        try {
            connection.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            if (connection.supportedOptions().contains(ExtendedSocketOptions.TCP_KEEPIDLE)) {
                connection.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS);
                connection.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, KEEPALIVE_INTERVAL_SECONDS);
                connection.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, KEEPALIVE_PROBES);
            }
        } catch (IOException ignored) {
            // Only a connection already reset fails here: it is served anyway, and its read ends at once.
        }
    }

    @Override
    public void terminate(String reason) {
        terminating = true; // before the session frees its slot: no new client may take it
        onTerminate.accept(reason);
    }

    @Override
    public void ended(ClientSession session) {
        stats.clientDisconnected();
        free.add(session);
    }

    /** Waits before the next accept; false if interrupted (the stop). */
    private static boolean pause() {
        try {
            Thread.sleep(ACCEPT_RETRY_MS);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private static String describeRemote(SocketChannel connection) {
        try {
            return String.valueOf(connection.getRemoteAddress());
        } catch (IOException e) {
            return "(unknown address: " + Diagnostics.describe(e) + ")";
        }
    }
}
