package dev.numbers;

import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The number server: the listening socket, the client slots, the shared seen-set and log, the
 * reporter, and the shutdown sequence.
 *
 * <p>Threads: one acceptor; a fixed pool of {@code maxClients} client threads, each serving one
 * {@link ClientSession} at a time; one reporter; one that runs the shutdown when asked. A
 * connection arriving when every slot is busy is closed at once, unread.
 *
 * <p>{@link #start} returns a running server; {@link #requestShutdown} (from a client's
 * {@code terminate}, a signal, or a test) starts the shutdown, and {@link #awaitExit} returns the
 * process exit status once it is done, so that tests never hit {@code System.exit}.
 */
final class NumberServer {

    /** Exit status: clean shutdown. */
    static final int EXIT_OK = 0;
    /** Exit status: a failure at or after startup (see stderr). */
    static final int EXIT_FAILURE = 1;
    /** Exit status: stopped while the disk was failing; numbers accepted are missing from the log. */
    static final int EXIT_LOG_INCOMPLETE = 3;

    /** The idle watchdog looks every quarter of the timeout, within these bounds. */
    private static final long IDLE_CHECK_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long IDLE_CHECK_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ServerConfig config;
    private final UUID runId = UUID.randomUUID();
    private final Stats stats = new Stats();
    private final NumberLog log;
    private final ServerSocketChannel listener;
    private final ClientSession[] sessions;
    private final ArrayBlockingQueue<ClientSession> idleSessions;
    private final ExecutorService clientThreads;
    private final ScheduledExecutorService reporter;
    private final Thread acceptor;
    private AdminServer admin;
    private MetricsServer metrics;

    private final AtomicBoolean shutdownStarted = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile int exitStatus = EXIT_OK;

    private NumberServer(ServerConfig config, LineDecoder decoder, NumberLog log, SeenNumbers seen,
                         ServerSocketChannel listener, PrintStream reportOut) {
        this.config = config;
        this.log = log;
        this.listener = listener;
        BatchesInFlight inFlight = new BatchesInFlight(config.maxClients());
        this.sessions = new ClientSession[config.maxClients()];
        this.idleSessions = new ArrayBlockingQueue<>(config.maxClients());
        for (int slot = 0; slot < sessions.length; slot++) {
            sessions[slot] = new ClientSession(slot, this::requestShutdown, this::free, decoder, seen, log,
                    config.logFormat(), stats, inFlight);
            idleSessions.add(sessions[slot]);
        }
        ThreadPoolExecutor pool = new ThreadPoolExecutor(config.maxClients(), config.maxClients(), 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), Threads.daemons("client"));
        pool.prestartAllCoreThreads(); // one thread per slot from the start: no thread is made per client
        this.clientThreads = pool;
        this.reporter = Executors.newSingleThreadScheduledExecutor(Threads.daemons("reporter"));
        long intervalNanos = config.reportInterval().toNanos();
        reporter.scheduleAtFixedRate(new StatsReporter(stats, reportOut), intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
        reporter.scheduleAtFixedRate(stats::sampleRate, 1, 1, TimeUnit.SECONDS);
        if (!config.idleTimeout().isZero()) {
            long timeoutNanos = config.idleTimeout().toNanos();
            long periodNanos = Math.max(IDLE_CHECK_MIN_NANOS, Math.min(IDLE_CHECK_MAX_NANOS, timeoutNanos / 4));
            reporter.scheduleWithFixedDelay(() -> {
                long now = System.nanoTime();
                for (ClientSession session : sessions) {
                    session.disconnectIfIdle(now, timeoutNanos);
                }
            }, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        }
        this.acceptor = Threads.daemons("acceptor").newThread(this::acceptLoop);
    }

    /**
     * Checks that the port is free, creates (or truncates) the log, then opens the port and
     * starts serving.
     *
     * @param reportOut where the report lines go: stdout in production
     * @throws StartupException with a one-line message if the log, the memory or the port fail
     */
    static NumberServer start(ServerConfig config, PrintStream reportOut) throws StartupException {
        checkPortIsFree(config);
        LineDecoder decoder = LineDecoder.forPlatform();
        NumberLog log;
        try {
            log = NumberLog.create(config.logPath(), decoder.separator(), config.fsync());
        } catch (IOException e) {
            throw new StartupException("cannot create log file " + config.logPath() + ": " + Log.describe(e), e);
        }
        try {
            SeenNumbers seen = allocateSeenNumbers();
            ServerSocketChannel listener = openListener(config);
            NumberServer server = null;
            try {
                server = new NumberServer(config, decoder, log, seen, listener, reportOut);
                server.startSideServers();
            } catch (StartupException | RuntimeException e) {
                if (server != null) {
                    server.closeSideServers();
                    server.reporter.shutdownNow();
                    server.clientThreads.shutdown();
                }
                closeQuietly(listener);
                throw e;
            }
            server.acceptor.start();
            Log.info("started port=" + server.port() + " bind=" + describeBind(config)
                    + " max-clients=" + config.maxClients()
                    + " log=" + config.logPath().toAbsolutePath()
                    + " log-format=" + config.logFormat().optionName()
                    + " report-interval=" + config.reportInterval().toMillis() + "ms"
                    + " fsync=" + config.fsync().optionName()
                    + " idle-timeout=" + (config.idleTimeout().isZero() ? "off" : config.idleTimeout().toMillis() + "ms")
                    + " admin-port=" + (server.admin == null ? "off" : server.admin.port())
                    + " metrics-port=" + (server.metrics == null ? "off" : server.metrics.port())
                    + " run-id=" + server.runId);
            return server;
        } catch (StartupException | RuntimeException | Error e) {
            closeQuietly(log);
            throw e;
        }
    }

    /**
     * Fails with the port's error if another process listens on it, before the log is touched:
     * a second server started by mistake must say "port in use", not trip over the first one's
     * locked log. The probe binds without listening, so no client can connect to it, and allows
     * an address in TIME_WAIT, as the real listener does.
     */
    private static void checkPortIsFree(ServerConfig config) throws StartupException {
        if (config.port() == 0) {
            return;
        }
        try (Socket probe = new Socket()) {
            probe.setReuseAddress(true);
            probe.bind(address(config.bindAddress(), config.port()));
        } catch (IOException e) {
            throw portFailure(config, e);
        }
    }

    private static StartupException portFailure(ServerConfig config, IOException e) {
        return new StartupException("cannot listen on port " + config.port() + " (" + describeBind(config) + "): "
                + describeBindFailure(e), e);
    }

    private static SeenNumbers allocateSeenNumbers() throws StartupException {
        try {
            return new SeenNumbers();
        } catch (OutOfMemoryError e) {
            throw new StartupException("not enough memory for the 125 MB set of seen numbers: "
                    + "give the JVM a larger heap, for example -Xmx256m", e);
        }
    }

    private static ServerSocketChannel openListener(ServerConfig config) throws StartupException {
        InetSocketAddress address = address(config.bindAddress(), config.port());
        ServerSocketChannel channel = null;
        try {
            channel = ServerSocketChannel.open();
            channel.bind(address, 128);
            return channel;
        } catch (IOException e) {
            if (channel != null) {
                closeQuietly(channel);
            }
            throw portFailure(config, e);
        }
    }

    /**
     * Opens the command port and the metrics endpoint, if configured. The default command port
     * being taken is a warning, not a failure: several servers on one host (tests, a second
     * instance on another --port) must not need to know of it.
     */
    private void startSideServers() throws StartupException {
        if (config.adminPort() != 0) {
            InetSocketAddress address = address(config.adminAddress(), config.adminPort());
            try {
                admin = AdminServer.start(address, stats, runId.toString());
            } catch (IOException e) {
                if (config.adminRequired()) {
                    throw new StartupException("cannot open command port " + config.adminPort() + ": " + describeBindFailure(e), e);
                }
                Log.warn("command port " + config.adminPort() + " not opened (" + describeBindFailure(e)
                        + "); running without it. Choose one with --admin-port, or 0 for none.");
            }
        }
        if (config.metricsPort() != 0) {
            try {
                metrics = MetricsServer.start(address(config.adminAddress(), config.metricsPort()), stats, log);
            } catch (IOException e) {
                throw new StartupException("cannot open metrics port " + config.metricsPort() + ": " + describeBindFailure(e), e);
            }
        }
    }

    private void closeSideServers() {
        if (admin != null) {
            admin.close();
        }
        if (metrics != null) {
            metrics.close();
        }
    }

    private static InetSocketAddress address(java.net.InetAddress host, int port) {
        return host == null ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    private static String describeBindFailure(IOException e) {
        return e instanceof BindException && "Address already in use".equals(e.getMessage())
                ? "address already in use" : Log.describe(e);
    }

    private static String describeBind(ServerConfig config) {
        return config.bindAddress() == null ? "all interfaces" : config.bindAddress().getHostAddress();
    }

    /** The port the server listens on: the configured one, or the one picked for port 0. */
    int port() {
        return listener.socket().getLocalPort();
    }

    UUID runId() {
        return runId;
    }

    /** The command port, or -1 when there is none. */
    int adminPort() {
        return admin == null ? -1 : admin.port();
    }

    Stats stats() {
        return stats;
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel connection;
            try {
                connection = listener.accept();
            } catch (ClosedChannelException e) {
                return; // shutdown closed the listener
            } catch (IOException e) {
                if (!listener.isOpen()) {
                    return;
                }
                Log.warn("accept failed: " + Log.describe(e) + "; retrying in 100 ms");
                Threads.sleepQuietly(100);
                continue;
            }
            String remote = describeRemote(connection);
            ClientSession session = idleSessions.poll();
            if (session == null) {
                stats.clientRejected();
                closeQuietly(connection);
                Log.info("client " + remote + " rejected: all " + config.maxClients() + " slots are busy");
                continue;
            }
            stats.clientConnected();
            Log.info("client " + remote + " connected, " + stats.connectedClients() + " of " + config.maxClients());
            session.attach(connection, remote);
            clientThreads.execute(session::serve);
        }
    }

    /** Takes a session's slot back when its connection has ended (called by the session). */
    private void free(ClientSession session) {
        stats.clientDisconnected();
        idleSessions.add(session);
    }

    /**
     * Starts the shutdown, once: stop accepting, disconnect every client, let each finish the
     * batch it has read, close the log (flushed and forced to disk). Returns at once; any thread.
     */
    void requestShutdown(String reason) {
        if (shutdownStarted.compareAndSet(false, true)) {
            Threads.daemons("shutdown").newThread(() -> shutdown(reason)).start();
        }
    }

    private void shutdown(String reason) {
        try {
            Log.info("shutting down: " + reason);
            closeQuietly(listener);
            joinQuietly(acceptor);
            closeSideServers();
            for (ClientSession session : sessions) {
                session.disconnect();
            }
            log.abandonRetries(); // a failing disk gets one last attempt per waiting batch, no more
            clientThreads.shutdown(); // not shutdownNow: an interrupt would close the log's channel
            awaitQuietly(clientThreads);
            reporter.shutdownNow();
            try {
                log.close();
            } catch (IOException e) {
                exitStatus = EXIT_LOG_INCOMPLETE;
                Log.error("cannot force " + config.logPath() + " to disk: " + Log.describe(e));
            }
            long unwritten = log.unwrittenNumbers();
            if (unwritten > 0) {
                exitStatus = EXIT_LOG_INCOMPLETE;
                Log.error(unwritten + " numbers were accepted but could not be written to " + config.logPath()
                        + " (" + log.lastFailure() + ")");
            }
            Log.info("stopped: unique total " + stats.uniqueTotal() + ", duplicates " + stats.duplicateTotal()
                    + ", exit status " + exitStatus);
        } catch (RuntimeException | Error e) {
            exitStatus = EXIT_FAILURE;
            Log.error("shutdown failed, please report it: " + e);
        } finally {
            stopped.countDown(); // whatever happened, the process must be able to exit
        }
    }

    /** Waits for the shutdown to finish; returns the process exit status. */
    int awaitExit() throws InterruptedException {
        stopped.await();
        return exitStatus;
    }

    /** Waits up to {@code timeoutMillis} for the shutdown to finish; true if it did. */
    boolean awaitExit(long timeoutMillis) throws InterruptedException {
        return stopped.await(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    int exitStatus() {
        return exitStatus;
    }

    private static String describeRemote(SocketChannel connection) {
        try {
            return String.valueOf(connection.getRemoteAddress());
        } catch (IOException e) {
            return "(unknown address: " + Log.describe(e) + ")";
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            Log.warn("close failed: " + Log.describe(e));
        }
    }

    private static void joinQuietly(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(ExecutorService executor) {
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                Log.error("client threads still running 30 s after shutdown began");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
