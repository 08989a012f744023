package dev.numbers.load;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * The load generator's command line, {@code numbers-server load} ({@code java -jar
 * numbers-load.jar}, the launcher's {@code load}): a {@link LoadGenerator} run, or with
 * {@code --sink} the null server ({@link Sink}), which SIGINT and SIGTERM stop after a summary
 * line (a JVM shutdown hook). {@link #run} returns the status instead of exiting, for tests.
 *
 * <p>Exit status, as numbers-server's: {@link #EXIT_OK} when every client finished (and the log
 * verified, with {@code --verify}), or the sink was stopped; {@link #EXIT_FAILURE} when a client
 * failed, the log is not the expected set, or the sink could not listen; {@link #EXIT_USAGE} for
 * a bad command line. Every error is one line on stderr starting {@code load: }; a bad command
 * line ends with {@code (see --help)}, as the server's do.
 */
@Command(name = "numbers-server load",
        sortOptions = false,
        showDefaultValues = true,
        usageHelpAutoWidth = true,
        description = "Sends numbers to a numbers-server from several clients at once and reports the rate, "
                + "end to end: the clock stops when the server has closed every connection after reading "
                + "all of it, which for numbers-server means every number is in its log; connections it leaves "
                + "open, closing none for " + LoadGenerator.CLOSE_TIMEOUT_MS / 1000 + " s, fail the run. Progress "
                + "goes to stderr, the summary and the --verify verdict to stdout.%n")
public final class LoadCommand implements Callable<Integer> {

    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;
    /** What every error line starts with: the word users type, whatever runs it. */
    private static final String PREFIX = "load: ";

    /** What --sink ignores, so naming one with it is a mistake worth a line. */
    private static final List<String> LOAD_ONLY_OPTIONS =
            List.of("--clients", "--count", "--duration", "--range", "--seed", "--terminate", "--verify", "--reconnect-every");

    @Spec
    private CommandSpec spec;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Server to load (with --sink: the address to listen on).")
    private InetAddress host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "4000",
            description = "Its port, 1 to 65535 (with --sink: the port to listen on, 0 to 65535; 0 picks a free "
                    + "port, shown on stderr).")
    private int port;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "5",
            description = "Concurrent clients, one connection and thread each, 1 to " + LoadGenerator.MAX_CLIENTS
                    + " (numbers-server's largest --max-clients).")
    private int clients;

    @Option(names = "--count", paramLabel = "N", defaultValue = "1000000",
            description = "Numbers per client, 1 to about 200 million (a client's payload is one buffer of at most "
                    + "2 GB, generated before the clock starts). With --duration: the payload each client repeats.")
    private long count;

    @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Send for this long, repeating each payload, instead of sending it once (30s, 2m).")
    private Duration duration;

    @Option(names = "--range", paramLabel = "R", defaultValue = "1000000000",
            description = "Numbers are drawn uniformly from [0, R), R 1 to 1000000000: 10^9 gives mostly unique "
                    + "numbers, 10^6 mostly duplicates.")
    private int range;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1", description = "Random seed: the same seed sends the same numbers.")
    private long seed;

    @Option(names = "--terminate", description = "Send 'terminate' when every client is done, which stops numbers-server.")
    private boolean terminate;

    @Option(names = "--verify", paramLabel = "LOG",
            description = "After the run, check that LOG, the server's log, holds exactly the unique numbers "
                    + "sent, once each. For a large run this takes longer than the run itself: progress on stderr, "
                    + "the verdict on stdout.")
    private Path verify;

    @Option(names = "--reconnect-every", paramLabel = "N",
            description = "Churn: each client sends its payload over a new connection every N numbers, 1 to --count, "
                    + "half-closing each as soon as it is written and going on without waiting for the server; one "
                    + "thread waits for the server to close them all, and the clock stops when it has. Each "
                    + "connection not closed yet holds a file descriptor (ulimit -n). Not with --duration. Without "
                    + "it: one connection per client.")
    private Long reconnectEvery;

    @Option(names = "--sink", description = "Run a null server on --host and --port instead: accept, read, discard, "
            + "to measure the ceiling of this machine. Ctrl+C or SIGTERM stops it, after a summary on stderr.")
    private boolean sink;

    @Option(names = "--no-progress", description = "No progress lines on stderr, while sending or verifying: for "
            + "scripts and CI logs, which would get a line a second. The summary and the verdict are the same.")
    private boolean noProgress;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    private boolean help;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit status. */
    static int run(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new LoadCommand());
        commandLine.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println(PREFIX + e.getMessage() + " (see --help)");
            err.flush();
            return EXIT_USAGE;
        });
        commandLine.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            err.println(PREFIX + "unexpected failure, please report it: " + e);
            err.flush();
            return EXIT_FAILURE;
        });
        return commandLine;
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        if (sink) {
            return sink(err);
        }
        LoadGenerator.Plan plan;
        try {
            plan = new LoadGenerator.Plan(host, port, clients, count, duration, range, seed, terminate, verify, !noProgress,
                    reconnectEvery);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        boolean ok = LoadGenerator.run(plan, spec.commandLine().getOut(), err);
        return ok ? EXIT_OK : EXIT_FAILURE;
    }

    /** Serves until SIGINT or SIGTERM; the sink prints its summary before this returns. */
    private int sink(PrintWriter err) {
        ParseResult parsed = spec.commandLine().getParseResult();
        for (String option : LOAD_ONLY_OPTIONS) {
            if (parsed.hasMatchedOption(option)) {
                throw new ParameterException(spec.commandLine(), "--sink only listens and reads: " + option + " is for a load run");
            }
        }
        Sink server;
        try {
            server = Sink.open(host, port);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        } catch (IOException e) {
            err.println("load: --sink cannot listen on " + host.getHostAddress() + " port " + port + ": " + e.getMessage());
            err.flush();
            return EXIT_FAILURE;
        }
        // SIGINT and SIGTERM run the JVM's shutdown hooks, which cannot tell them apart. The hook
        // ends the process with the status a stopped sink has always had, 0, not the JVM's 128 +
        // signal: the main thread cannot (an exit while the hooks run blocks), and the hook is
        // the last thing to run.
        Thread onSignal = new Thread(() -> {
            server.stop("a signal");
            server.awaitServed();
            Runtime.getRuntime().halt(EXIT_OK);
        }, "sink-stop");
        try (server) {
            // Before the listening line, which is what a script waits for before it may signal.
            Runtime.getRuntime().addShutdownHook(onSignal);
            server.serve(err);
            return EXIT_OK;
        } catch (IOException e) {
            err.println("load: --sink stopped accepting connections: " + e.getMessage());
            err.flush();
            return EXIT_FAILURE;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                // A signal stopped the sink: the hook is running, and ends the process itself.
            }
        }
    }

    /**
     * {@code --duration}: a number with an optional unit, {@code ms}, {@code s} (the default),
     * {@code m} or {@code h}: {@code 30s}, {@code 2m}, {@code 1.5}. The range is the plan's to check.
     */
    static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern AMOUNT_AND_UNIT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

        @Override
        public Duration convert(String value) {
            Matcher matcher = AMOUNT_AND_UNIT.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!matcher.matches()) {
                throw new TypeConversionException("'" + value + "' is not a duration (examples: 30s, 2m)");
            }
            double nanosPerUnit = switch (matcher.group(2) == null ? "s" : matcher.group(2)) {
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            // Past Long.MAX_VALUE nanoseconds (292 years) round saturates: a duration no run outlives.
            return Duration.ofNanos(Math.round(Double.parseDouble(matcher.group(1)) * nanosPerUnit));
        }
    }
}
