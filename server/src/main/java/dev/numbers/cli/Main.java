package dev.numbers.cli;

import dev.numbers.ops.Diagnostics;
import dev.numbers.server.FsyncPolicy;
import dev.numbers.server.LogFormat;
import dev.numbers.server.NumberServer;
import dev.numbers.server.ServerConfig;
import dev.numbers.server.StartupException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The command line: options to a {@link ServerConfig}, then the server until it stops, then the
 * {@link ExitStatus}. {@link #run} returns the status instead of exiting, for tests. Errors are
 * one line on stderr, without a stack trace.
 */
@Command(name = "numbers-server",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        showDefaultValues = true,
        usageHelpAutoWidth = true,
        description = "Accepts 9-digit numbers, one per line, from up to 5 concurrent TCP clients, writes each "
                + "unique number once to a log file, and prints a report to stdout every 10 seconds. A client "
                + "line 'terminate' (or SIGINT, SIGTERM) shuts the server down cleanly.%n")
public final class Main implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + ServerConfig.DEFAULT_PORT,
            description = "TCP port for number clients, 0 to 65535; 0 picks a free port, shown in the 'started' line on stderr.")
    private int port;

    @Option(names = "--bind", paramLabel = "ADDRESS", converter = AddressConverter.class,
            description = "Address to listen on (default: all interfaces).")
    private InetAddress bind;

    @Option(names = "--max-clients", paramLabel = "N", defaultValue = "" + ServerConfig.DEFAULT_MAX_CLIENTS,
            description = "Number clients read at once, 1 to " + ServerConfig.MAX_MAX_CLIENTS
                    + "; more wait, unread, in the accept queue until a slot frees. Each costs a thread and 0.6 MB.")
    private int maxClients;

    @Option(names = "--log", paramLabel = "PATH", defaultValue = ServerConfig.DEFAULT_LOG,
            description = "Log of unique numbers; created, or truncated, at startup.")
    private Path log;

    @Option(names = "--log-format", paramLabel = "stripped|padded", defaultValue = "stripped",
            description = "stripped: leading zeros removed (007007009 is logged as 7007009); padded: nine digits as received.")
    private LogFormat logFormat;

    @Option(names = "--report-interval", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.NeverOff.class,
            description = "Time between two report lines on stdout, 100ms to 24h: 10s, 500ms, 2m, or seconds (1.5).")
    private Duration reportInterval;

    @Option(names = "--fsync", paramLabel = "never|interval|always", defaultValue = "interval",
            description = "When the log is forced to disk: never (the kernel decides, ~30 s), interval (every second), "
                    + "always (each batch, before its client is read again). See docs/durability.md.")
    private FsyncPolicy fsync;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "off", converter = DurationConverter.class,
            description = "Disconnect a client that sends nothing for this long, 100ms to 24h (30s, 2m), so that "
                    + "silent clients cannot hold every slot; off waits forever.")
    private Duration idleTimeout;

    @Option(names = "--admin-port", paramLabel = "PORT", defaultValue = "" + ServerConfig.DEFAULT_ADMIN_PORT,
            description = "Command port (WHO, WHERE, WHY, STATS, HELP); 0 turns it off. If the default port is taken "
                    + "the server runs without it and says so; a port given here must open.")
    private int adminPort;

    @Option(names = "--admin-bind", paramLabel = "ADDRESS", converter = AddressConverter.class,
            description = "Address of the command port and the metrics (default: as --bind).")
    private InetAddress adminBind;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0",
            description = "Port that serves Prometheus metrics at the path /metrics; 0 turns it off.")
    private int metricsPort;

    @Option(names = {"-q", "--quiet"}, description = "Diagnostics on stderr: warnings and errors only.")
    private boolean quiet;

    /** How long the last diagnostic lines may wait for a stderr that does not take them, at exit. */
    static final long FINAL_LINES_WAIT_MS = 2_000;

    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (RuntimeException | Error e) { // past every handler: still one line, not a trace
            Diagnostics.plain("numbers-server: unexpected failure, please report it: " + e);
            status = ExitStatus.FAILURE.code();
        }
        Diagnostics.awaitWritten(FINAL_LINES_WAIT_MS);
        System.exit(status);
    }

    /** Runs the command line and returns the exit status. */
    static int run(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setParameterExceptionHandler(Main::usageError);
        commandLine.setExecutionExceptionHandler((e, cmd, parseResult) -> failure(e, cmd));
        return commandLine;
    }

    /**
     * The configuration a server command line describes; a later option overrides an earlier
     * one (tests put their own after common defaults).
     *
     * @throws ParameterException for a bad command line, with the message a user would see
     */
    public static ServerConfig parseConfig(String... args) {
        CommandLine commandLine = commandLine().setOverwrittenOptionsAllowed(true);
        commandLine.parseArgs(args);
        return commandLine.<Main>getCommand().toConfig();
    }

    /** The configuration these options describe. */
    private ServerConfig toConfig() {
        try {
            boolean adminRequired = spec.commandLine().getParseResult() != null
                    && spec.commandLine().getParseResult().hasMatchedOption("--admin-port");
            return new ServerConfig(bind, port, maxClients, log, logFormat, reportInterval, fsync, idleTimeout,
                    adminPort, adminBind, adminRequired, metricsPort, quiet);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    @Override
    public Integer call() throws StartupException, InterruptedException {
        ServerConfig config = toConfig();
        Diagnostics.configure(null, config.quiet());
        NumberServer server = new NumberServer(config, System.out);
        // Before the start: a signal while it starts stops the start, and the process exits as
        // after any clean stop.
        boolean sigintIgnored = Signals.onStop(server::requestShutdown, () -> awaitQuietly(server));
        Signals.onReopen(server::reopenLog);
        server.start();
        if (sigintIgnored && server.isServing()) {
            Diagnostics.warn("SIGINT is ignored by this process (a background job of a script?): stop it with SIGTERM");
        }
        ExitStatus status = ExitStatus.of(server.awaitExit());
        long dropped = Diagnostics.droppedLines();
        Diagnostics.info("stopped: " + server.totals() + ", exit status " + status.code()
                + (dropped == 0 ? "" : "; " + dropped + " diagnostic lines dropped (stderr did not take them in time)"));
        return status.code();
    }

    private static void awaitQuietly(NumberServer server) {
        try {
            server.awaitExit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int usageError(ParameterException e, String[] args) {
        Diagnostics.plain(e.getCommandLine().getCommandName() + ": " + e.getMessage() + " (see --help)");
        return ExitStatus.USAGE.code();
    }

    private static int failure(Exception e, CommandLine commandLine) {
        Diagnostics.plain(commandLine.getCommandName() + ": " + (e instanceof StartupException
                ? e.getMessage() : "unexpected failure, please report it: " + e));
        return ExitStatus.FAILURE.code();
    }

    /** {@code --bind}, {@code --admin-bind}: a host name or address, resolved now. */
    static final class AddressConverter implements CommandLine.ITypeConverter<InetAddress> {
        @Override
        public InetAddress convert(String value) {
            try {
                return InetAddress.getByName(value);
            } catch (UnknownHostException e) {
                throw new CommandLine.TypeConversionException("cannot resolve '" + value + "' to an address");
            }
        }
    }

    /** {@code --version}: the project version, from the jar's manifest ({@code Implementation-Version}). */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"numbers-server " + (version == null ? "(unknown version: not run from its jar)" : version)};
        }
    }
}
