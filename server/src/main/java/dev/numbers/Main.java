package dev.numbers;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import dev.numbers.load.LoadCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The command line: options to {@link ServerConfig}, then the server until it stops, then the
 * exit status. {@link #run} returns the status instead of exiting, for tests.
 *
 * <p>Exit status: 0 after a clean shutdown (terminate, SIGINT, SIGTERM), 1 when the server cannot
 * start or fails, 2 for a bad command line. Errors are one line on stderr, without a stack trace.
 */
@Command(name = "numbers-server",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        subcommands = LoadCommand.class,
        sortOptions = false,
        showDefaultValues = true,
        usageHelpAutoWidth = true,
        description = "Accepts 9-digit numbers, one per line, from up to 5 concurrent TCP clients, writes each "
                + "unique number once to a log file, and prints a report to stdout every 10 seconds. A client "
                + "line 'terminate' (or SIGINT, SIGTERM) shuts the server down cleanly.%n")
public final class Main implements Callable<Integer> {

    /** Exit status for a bad command line, as picocli uses it. */
    static final int EXIT_USAGE = 2;

    @Spec
    private CommandSpec spec;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + ServerConfig.DEFAULT_PORT,
            description = "TCP port for number clients; 0 picks a free port, shown in the 'started' line on stderr.")
    private int port;

    @Option(names = "--bind", paramLabel = "ADDRESS",
            description = "Address to listen on (default: all interfaces).")
    private InetAddress bind;

    @Option(names = "--max-clients", paramLabel = "N", defaultValue = "" + ServerConfig.DEFAULT_MAX_CLIENTS,
            description = "Number clients connected at once; a client beyond them is closed at once, unread.")
    private int maxClients;

    @Option(names = "--log", paramLabel = "PATH", defaultValue = ServerConfig.DEFAULT_LOG,
            description = "Log of unique numbers; created, or truncated, at startup.")
    private Path log;

    @Option(names = "--log-format", paramLabel = "stripped|padded", defaultValue = "stripped",
            converter = LogFormatConverter.class,
            description = "stripped: leading zeros removed (007007009 is logged as 7007009); padded: nine digits as received.")
    private LogFormat logFormat;

    @Option(names = "--report-interval", paramLabel = "DURATION", defaultValue = "10s",
            converter = DurationConverter.class,
            description = "Time between two report lines on stdout, e.g. 10s, 500ms, 1.5 (seconds).")
    private Duration reportInterval;

    @Option(names = "--fsync", paramLabel = "never|interval|always", defaultValue = "interval",
            converter = FsyncPolicyConverter.class,
            description = "When the log is forced to disk: never (the kernel decides, ~30 s), interval (every second), "
                    + "always (each batch, before its client is read again). See the README, Durability.")
    private FsyncPolicy fsync;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "off",
            converter = DurationConverter.class,
            description = "Disconnect a client that sends nothing for this long (e.g. 30s), so silent clients cannot "
                    + "hold every slot; off waits forever.")
    private Duration idleTimeout;

    @Option(names = "--admin-port", paramLabel = "PORT", defaultValue = "" + ServerConfig.DEFAULT_ADMIN_PORT,
            description = "Command port (WHO, WHERE, WHY, STATS, HELP); 0 turns it off. If the default port is taken "
                    + "the server runs without it and says so; a port given here must open.")
    private int adminPort;

    @Option(names = "--admin-bind", paramLabel = "ADDRESS",
            description = "Address of the command port and the metrics (default: as --bind).")
    private InetAddress adminBind;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0",
            description = "Serve Prometheus metrics at http://ADDRESS:PORT/metrics; 0 (the default) turns it off.")
    private int metricsPort;

    @Option(names = {"-q", "--quiet"}, description = "Diagnostics on stderr: warnings and errors only.")
    private boolean quiet;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit status. */
    static int run(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setParameterExceptionHandler(Main::usageError);
        commandLine.setExecutionExceptionHandler((e, cmd, parseResult) -> failure(e, cmd));
        return commandLine;
    }

    /** The configuration these options describe. */
    ServerConfig toConfig() {
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
        Log.configure(System.err, config.quiet());
        // SIGINT and SIGTERM land in this hook, and so does System.exit after a terminate. It is
        // installed before the port opens: a signal during startup waits for the server to be up,
        // then stops it cleanly. Halting with the shutdown's status makes a signal exit 0.
        CompletableFuture<NumberServer> started = new CompletableFuture<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopOnSignal(started), "signal-shutdown"));
        NumberServer server;
        try {
            server = NumberServer.start(config, System.out);
        } catch (StartupException | RuntimeException e) {
            started.completeExceptionally(e);
            throw e;
        }
        started.complete(server);
        return server.awaitExit();
    }

    private static void stopOnSignal(CompletableFuture<NumberServer> started) {
        NumberServer server;
        try {
            server = started.get();
        } catch (ExecutionException e) {
            return; // it never started: the startup failure's status stands
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        server.requestShutdown("signal (SIGINT or SIGTERM)");
        try {
            server.awaitExit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Runtime.getRuntime().halt(server.exitStatus());
    }

    private static int usageError(ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        err.println(e.getCommandLine().getCommandName() + ": " + e.getMessage() + " (see --help)");
        err.flush();
        return EXIT_USAGE;
    }

    private static int failure(Exception e, CommandLine commandLine) {
        PrintWriter err = commandLine.getErr();
        if (e instanceof StartupException) {
            err.println(commandLine.getCommandName() + ": " + e.getMessage());
        } else {
            err.println(commandLine.getCommandName() + ": unexpected failure, please report it: " + e);
            e.printStackTrace(err);
        }
        err.flush();
        return NumberServer.EXIT_FAILURE;
    }

    /** {@code --log-format}: the lower-case names of {@link LogFormat}. */
    static final class LogFormatConverter implements CommandLine.ITypeConverter<LogFormat> {
        @Override
        public LogFormat convert(String value) {
            return byOptionName(LogFormat.values(), LogFormat::optionName, value, "a log format (stripped or padded)");
        }
    }

    /** {@code --fsync}: the lower-case names of {@link FsyncPolicy}. */
    static final class FsyncPolicyConverter implements CommandLine.ITypeConverter<FsyncPolicy> {
        @Override
        public FsyncPolicy convert(String value) {
            return byOptionName(FsyncPolicy.values(), FsyncPolicy::optionName, value, "an fsync policy (never, interval or always)");
        }
    }

    private static <T> T byOptionName(T[] values, java.util.function.Function<T, String> name, String value, String what) {
        for (T candidate : values) {
            if (name.apply(candidate).equalsIgnoreCase(value.trim())) {
                return candidate;
            }
        }
        throw new CommandLine.TypeConversionException("'" + value + "' is not " + what);
    }

    /** {@code --version}: the project version, filtered into a resource by the build. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties properties = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    properties.load(in);
                }
            }
            return new String[] {"numbers-server " + properties.getProperty("version", "(unknown version)")};
        }
    }
}
