package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import dev.numbers.ops.ServerStatus;
import dev.numbers.ops.SidePorts;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The number server's lifecycle: what it opens, in which order, and how it stops.
 *
 * <p>{@link #start} opens everything in the order of {@link #open}, each step pushed on a
 * {@link ResourceStack}; a stop ({@link #requestShutdown}: a client's {@code terminate}, a
 * signal, a test) or a failed start closes the stack in reverse, in one place. The constructor
 * starts nothing. {@link #awaitExit} says how the run ended, so that tests never hit
 * {@code System.exit}.
 *
 * <p>Threads: one acceptor; a client thread per slot; the report's timer ({@link StatsReporter});
 * a housekeeping timer (the rate sample, the log's path check, the idle watchdog), apart from the
 * report so that a stdout that blocks holds up nothing else; the {@code interval} fsync timer;
 * the side ports' event loop; and one that runs the stop.
 */
public final class NumberServer {

    /** How a run ended. */
    public enum Outcome {
        /** Stopped cleanly (terminate, a signal), every number received in the log. */
        STOPPED,
        /** Stopped while the log was failing: numbers received are missing from it (stderr says how many). */
        LOG_INCOMPLETE,
        /** The stop itself failed (a defect: stderr says what). */
        FAILED
    }

    private static final long HOUSEKEEPING_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ServerConfig config;
    private final PrintStream reportOut;
    private final UnaryOperator<FileChannel> logChannels;
    private final UUID runId = UUID.randomUUID();
    private final Stats stats = new Stats();
    private final ResourceStack resources = new ResourceStack();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Object lifecycle = new Object();
    /** Guarded by {@link #lifecycle}: a stop was asked for, and why; accepting clients (a stop now runs the shutdown). */
    private String stopReason;
    private boolean started;
    private volatile Outcome outcome = Outcome.STOPPED;

    // Opened by start(), in this order.
    private ClientSlots slots;
    private SidePorts sidePorts;
    private volatile NumberLog log; // read by the side ports' thread, which starts before it is open

    /** @param reportOut where the report lines go: stdout in production */
    public NumberServer(ServerConfig config, PrintStream reportOut) {
        this(config, reportOut, UnaryOperator.identity());
    }

    /** As above; {@code logChannels} may stand in a test's channel for the log file's. */
    NumberServer(ServerConfig config, PrintStream reportOut, UnaryOperator<FileChannel> logChannels) {
        this.config = config;
        this.reportOut = reportOut;
        this.logChannels = logChannels;
    }

    /**
     * Opens everything and starts serving; returns once clients are accepted. If a stop was asked
     * for meanwhile, closes again what it opened and returns ({@link #awaitExit}: STOPPED).
     *
     * @throws StartupException with a one-line message if the memory, a port or the log fail;
     *     everything opened so far is closed again
     */
    public void start() throws StartupException {
        boolean serving = false;
        try {
            open();
            serving = true;
        } catch (StopDuringStartup e) {
            Diagnostics.info("stopped before it started: " + e.getMessage());
        } catch (OutOfMemoryError e) {
            slots = null; // its sessions hold the set and the buffers: free them, so that saying why has memory
            throw new StartupException("not enough memory to start (" + e.getMessage()
                    + "): use a smaller --max-clients, or give the JVM more (-Xmx, -XX:MaxDirectMemorySize)", e);
        } catch (RuntimeException | Error e) {
            throw new StartupException("unexpected failure while starting, please report it: " + e, e);
        } finally {
            if (!serving) {
                resources.closeAll(); // what the start had opened, in reverse
                stopped.countDown();
            }
        }
    }

    private void open() throws StartupException, StopDuringStartup {
        // 1. Memory and file descriptors, before anything outside the process is touched: a JVM
        //    too small for the set or for --max-clients fails here, with the old log intact.
        LineDecoder decoder = LineDecoder.forPlatform();
        SeenNumbers seen = SeenNumbers.allocate();
        SessionBuffers[] buffers = SessionBuffers.allocate(config, decoder.lineBytes());
        WarmUp.run(decoder, config.logFormat(), buffers[0]); // before the port: no client waits for it
        checkStop();

        // 2. The number port, bound and listening before the log is touched, so that a port in use
        //    (most often: this server, already running) fails the start without emptying that
        //    server's log. Nobody is accepted until step 5: an early client waits in the backlog.
        slots = new ClientSlots(buffers, decoder, stats, this::requestShutdown);
        resources.push("number port", slots::closePort);
        slots.listen(config.bindAddress(), config.port());
        checkStop();

        // 3. The side ports, bound before the log for the same reason; Netty comes up on a thread
        //    of its own meanwhile (their connections wait in the backlog). They read a snapshot only.
        if (config.adminPort() != 0 || config.metricsPort() != 0) {
            try {
                sidePorts = SidePorts.open(this::status, config.adminPort() == 0 ? null : address(config.adminAddress(),
                        config.adminPort()), config.adminRequired(), config.metricsPort() == 0 ? null
                        : address(config.adminAddress(), config.metricsPort()), Threads.named("side-ports"));
            } catch (IOException e) {
                throw new StartupException(e.getMessage(), e);
            }
            resources.push("side ports", sidePorts::close);
        }
        checkStop();

        // 4. The log, created or truncated before the first client is accepted: a run starts empty.
        try {
            log = NumberLog.open(config.logPath(), decoder.separator(), config.fsync(), logChannels);
        } catch (IOException e) {
            throw new StartupException("cannot create log file " + config.logPath() + ": " + Diagnostics.describe(e), e);
        }
        resources.push("log", this::closeLog);
        log.startSync(Threads.named("log-fsync"));

        // 5. Threads: the clients', the report, housekeeping. Then, ready: say so, then accept, so that
        //    "started" comes before any client's line. From here on a stop runs the shutdown.
        slots.startThreads(new ClientSession.Shared(seen, log, config.logFormat(), stats, new BatchesInFlight(config.maxClients())));
        resources.push("client threads", () -> slots.disconnectAndAwait(log::abandonRetries));
        StatsReporter reporter = new StatsReporter(stats, reportOut, config.reportInterval());
        reporter.start();
        resources.push("report", reporter::stop);
        ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(Threads.named("housekeeping"));
        resources.push("housekeeping", housekeeping::shutdownNow);
        Threads.every(housekeeping, HOUSEKEEPING_PERIOD_NANOS, "the rate sample", stats::sampleRate);
        Threads.every(housekeeping, HOUSEKEEPING_PERIOD_NANOS, "the log's path check", log::checkPath);
        if (!config.idleTimeout().isZero()) {
            slots.watchIdle(housekeeping, config.idleTimeout());
        }
        synchronized (lifecycle) {
            checkStop();
            Diagnostics.info("started " + describe());
            slots.startAccepting();
            resources.push("acceptor", slots::stopAccepting);
            started = true;
        }
    }

    static InetSocketAddress address(InetAddress host, int port) {
        return host == null ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    private String describe() {
        return "port=" + port() + " bind=" + slots.describeBound()
                + " max-clients=" + config.maxClients()
                + " log=" + config.logPath().toAbsolutePath()
                + " log-format=" + config.logFormat()
                + " report-interval=" + ServerConfig.human(config.reportInterval())
                + " fsync=" + log.fsyncPolicy()
                + " idle-timeout=" + (config.idleTimeout().isZero() ? "off" : ServerConfig.human(config.idleTimeout()))
                + " admin-port=" + (commandPort() < 0 ? "off" : commandPort())
                + " metrics-port=" + (sidePorts == null || sidePorts.metricsPort() < 0 ? "off" : sidePorts.metricsPort())
                + " run-id=" + runId;
    }

    /**
     * Asks the server to stop, once: stop accepting, disconnect every client, let each finish the
     * batch it has read, close the log (forced to disk). Returns at once; any thread. Before the
     * server has started, it makes the start stop at its next step.
     */
    public void requestShutdown(String reason) {
        synchronized (lifecycle) {
            if (stopReason != null) {
                return;
            }
            stopReason = reason;
            if (!started) {
                return;
            }
        }
        Threads.named("shutdown").newThread(this::shutdown).start();
    }

    private void checkStop() throws StopDuringStartup {
        synchronized (lifecycle) {
            if (stopReason != null) {
                throw new StopDuringStartup(stopReason);
            }
        }
    }

    private void shutdown() {
        try {
            synchronized (lifecycle) {
                Diagnostics.info("shutting down: " + stopReason);
            }
            resources.closeAll();
            long unwritten = log.unwrittenNumbers();
            if (unwritten > 0) {
                outcome = Outcome.LOG_INCOMPLETE;
                Diagnostics.error(unwritten + " numbers were accepted but could not be written to " + config.logPath()
                        + " (" + log.lastFailure() + ")");
            }
        } catch (RuntimeException | Error e) {
            outcome = Outcome.FAILED;
            Diagnostics.unexpected("the shutdown", e);
        } finally {
            stopped.countDown(); // whatever happened, the process must be able to exit
        }
    }

    /** True from the {@code started} line until a stop is asked for: the server accepts clients. */
    public boolean isServing() {
        synchronized (lifecycle) {
            return started && stopReason == null;
        }
    }

    /**
     * Reopens the log at its path, after a rotation (SIGUSR1), on a thread of its own: returns
     * at once. While the server is not serving there is nothing to reopen, and it says so.
     */
    public void reopenLog() {
        if (!isServing()) {
            Diagnostics.info("reopen: the log is not open; nothing to reopen");
            return;
        }
        Threads.named("log-reopen").newThread(log::reopen).start();
    }

    private void closeLog() {
        try {
            log.close();
        } catch (IOException e) {
            outcome = Outcome.LOG_INCOMPLETE;
            Diagnostics.error("cannot force " + config.logPath() + " to disk: " + Diagnostics.describe(e));
        }
    }

    /** Waits for the stop to finish (or a stop during startup); returns how the run ended. */
    public Outcome awaitExit() throws InterruptedException {
        stopped.await();
        return outcome;
    }

    /** Waits up to {@code timeoutMillis} for the stop to finish; true if it did (tests). */
    boolean awaitExit(long timeoutMillis) throws InterruptedException {
        return stopped.await(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    Outcome outcome() { // tests
        return outcome;
    }

    /** The run's totals, for the stopped line: "unique total 567231, duplicates 1024". */
    public String totals() {
        return "unique total " + stats.uniqueTotal() + ", duplicates " + stats.duplicateTotal();
    }

    /** The port the server listens on: the configured one, or the one picked for port 0. */
    public int port() {
        return slots.port();
    }

    Stats stats() { // tests
        return stats;
    }

    UUID runId() { // tests
        return runId;
    }

    /** The command port, or -1 when there is none. */
    int commandPort() {
        return sidePorts == null ? -1 : sidePorts.commandPort();
    }

    /** The snapshot the side ports read. */
    ServerStatus status() {
        return stats.status(runId, log);
    }
}
