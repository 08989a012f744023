package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import dev.numbers.ops.ServerStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The number server's lifecycle: what it opens, in which order, and how it stops.
 *
 * <p>{@link #start} opens everything in the order below, each step pushed on a
 * {@link ResourceStack}; a stop ({@link #requestShutdown}: a client's {@code terminate}, a
 * signal, a test) or a failed start closes the stack in reverse, in one place. The constructor
 * starts nothing. {@link #awaitExit} says how the run ended, so that tests never hit
 * {@code System.exit}.
 *
 * <p>Threads: one acceptor; a client thread per slot; a report timer; a housekeeping timer (the
 * idle watchdog and the rate sample), apart from the report so that a stdout that blocks cannot
 * hold up the idle timeouts; the {@code interval} fsync timer; the side ports' threads; and one
 * that runs the stop.
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

    private final ServerConfig config;
    private final PrintStream reportOut;
    private final UnaryOperator<FileChannel> logChannels;
    private final UUID runId = UUID.randomUUID();
    private final Stats stats = new Stats();
    private final ResourceStack resources = new ResourceStack();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Object lifecycle = new Object();
    /** Guarded by {@link #lifecycle}: a stop was asked for, and why. */
    private String stopReason;
    /** Guarded by {@link #lifecycle}: accepting clients; a stop now runs the shutdown. */
    private boolean started;
    private volatile Outcome outcome = Outcome.STOPPED;

    // Opened by start(), in this order.
    private ServerSocketChannel listener;
    /** Read by the side ports' threads, which start before it is open. */
    private volatile NumberLog log;
    private ClientSlots slots;
    private SidePorts sidePorts;

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
     * for meanwhile, closes again what it opened and returns: {@link #awaitExit} then says
     * {@link Outcome#STOPPED}.
     *
     * @throws StartupException with a one-line message if the memory, the port, the log or a
     *     side port fail; everything opened so far is closed again
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
        // 1. Memory, before anything outside the process is touched: a JVM too small for the set
        //    or for --max-clients fails here, with the port closed and the old log intact.
        LineDecoder decoder = LineDecoder.forPlatform();
        Memory.checkFileDescriptors(config);
        SeenNumbers seen = Memory.seenNumbers();
        SessionBuffers[] buffers = Memory.sessionBuffers(config.maxClients(), decoder.lineBytes());
        Memory.checkHeadroom(config.maxClients());
        WarmUp.run(decoder, config.logFormat(), buffers[0]); // before the port: no client waits for it
        checkStop();

        // 2. The number port, bound and listening before the log is touched, so that a port in use
        //    (most often: this server, already running) fails the start without emptying that
        //    server's log. Nobody is accepted until step 6: a client that connects early waits in
        //    the backlog.
        listener = Ports.bindNumberPort(config);
        resources.push("number port", listener::close);
        checkStop();

        // 3. The side ports, which only read a snapshot of the counters; before the log too, so
        //    that a side port in use fails the start with the old log intact.
        sidePorts = SidePorts.open(config, this::status, resources);
        checkStop();

        // 4. The log, created or truncated before the first client is accepted: a run starts empty.
        log = openLog(decoder.separator());
        resources.push("log", this::closeLog);
        log.startSync(Threads.named("log-fsync"));
        checkStop();
        ClientSession.Shared shared = new ClientSession.Shared(seen, log, config.logFormat(), stats,
                new BatchesInFlight(config.maxClients()));
        slots = new ClientSlots(buffers, decoder, shared, this::requestShutdown);

        // 5. Threads: the clients', the report (at a fixed rate: it must not drift), housekeeping.
        slots.startThreads();
        resources.push("client threads", () -> slots.disconnectAndAwait(log::abandonRetries));
        Timers timers = Timers.start(config, new StatsReporter(stats, reportOut), stats, log, slots);
        resources.push("timers", timers::close);

        // 6. Ready: say so, then accept; "started" comes before any client's line. A stop asked
        //    for until here has made the start stop; from here on it runs the shutdown.
        synchronized (lifecycle) {
            checkStop();
            Diagnostics.info("started " + describe());
            slots.startAccepting(listener);
            resources.push("acceptor", slots::stopAccepting);
            started = true;
        }
    }

    private NumberLog openLog(byte[] separator) throws StartupException {
        Path path = config.logPath();
        try {
            return NumberLog.open(path, separator, config.fsync(), logChannels);
        } catch (IOException e) {
            throw new StartupException("cannot create log file " + path + ": " + Diagnostics.describe(e), e);
        }
    }

    private String describe() throws StartupException {
        String bound;
        try {
            bound = Ports.describeBound(listener);
        } catch (IOException e) {
            throw new StartupException("cannot read the number port's address: " + Diagnostics.describe(e), e);
        }
        return "port=" + port() + " bind=" + bound
                + " max-clients=" + config.maxClients()
                + " log=" + config.logPath().toAbsolutePath()
                + " log-format=" + config.logFormat()
                + " report-interval=" + ServerConfig.human(config.reportInterval())
                + " fsync=" + log.fsyncPolicy()
                + " idle-timeout=" + (config.idleTimeout().isZero() ? "off" : ServerConfig.human(config.idleTimeout()))
                + " " + sidePorts.describe()
                + " run-id=" + runId;
    }

    /**
     * Asks the server to stop, once: stop accepting, disconnect every client, let each finish the
     * batch it has read, close the log (forced to disk). Returns at once; any thread. Before the
     * server has started, it makes the start stop at its next step.
     */
    public void requestShutdown(String reason) {
        boolean running;
        synchronized (lifecycle) {
            if (stopReason != null) {
                return;
            }
            stopReason = reason;
            running = started;
        }
        if (running) {
            Threads.named("shutdown").newThread(this::shutdown).start();
        }
    }

    /** Throws if a stop was asked for before the server started. */
    private void checkStop() throws StopDuringStartup {
        synchronized (lifecycle) {
            if (stopReason != null) {
                throw new StopDuringStartup(stopReason);
            }
        }
    }

    private void shutdown() {
        try {
            Diagnostics.info("shutting down: " + stopReason());
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

    private String stopReason() {
        synchronized (lifecycle) {
            return stopReason;
        }
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

    /** Waits up to {@code timeoutMillis} for the stop to finish; true if it did. */
    boolean awaitExit(long timeoutMillis) throws InterruptedException {
        return stopped.await(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    Outcome outcome() {
        return outcome;
    }

    /** The run's totals, for the last line: "unique total 567231, duplicates 1024". */
    public String totals() {
        return "unique total " + stats.uniqueTotal() + ", duplicates " + stats.duplicateTotal();
    }

    /** The port the server listens on: the configured one, or the one picked for port 0. */
    public int port() {
        return listener.socket().getLocalPort();
    }

    UUID runId() {
        return runId;
    }

    Stats stats() {
        return stats;
    }

    /** The command port, or -1 when there is none. */
    int commandPort() {
        return sidePorts.commandPort();
    }

    /** The snapshot the side ports read (the log's figures are 0 until it is open). */
    ServerStatus status() {
        NumberLog current = log;
        boolean open = current != null;
        return new ServerStatus(runId.toString(), TimeUnit.NANOSECONDS.toSeconds(stats.uptimeNanos()),
                stats.connectedClients(), stats.uniqueTotal(), stats.duplicateTotal(), stats.ratePerSecond(),
                stats.invalidClosed(), open ? current.bytesWritten() : 0,
                open ? current.fsyncCount() : 0, open ? current.fsyncNanos() : 0, open && current.isFailing());
    }
}
