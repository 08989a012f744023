package dev.numbers.load;

import dev.numbers.DurationConverter;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code numbers-server load}: the load generator. Sends reproducible numbers from several
 * clients at once and reports the end-to-end rate; optionally terminates the server and checks
 * its log. {@code load --sink} is the null server that measures the machine's ceiling.
 *
 * <p>Exit status: 0 when every client finished (and the log verified, with {@code --verify});
 * 1 when a client failed or the log is not the expected set; 2 for a bad command line.
 */
@Command(name = "load",
        sortOptions = false,
        showDefaultValues = true,
        usageHelpAutoWidth = true,
        description = "Sends numbers to a numbers-server from several clients at once and reports the rate, "
                + "end to end: the clock stops when the server has closed every connection after reading "
                + "all of it, which for numbers-server means every number is in its log. Progress goes to "
                + "stderr, the summary to stdout.%n")
public final class LoadCommand implements Callable<Integer> {

    static final long DEFAULT_COUNT = 1_000_000;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Server to load.")
    private String host;

    @Option(names = "--port", defaultValue = "4000", description = "Its port (with --sink: the port to listen on).")
    private int port;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "5", description = "Concurrent clients, one connection each.")
    private int clients;

    @Option(names = "--count", paramLabel = "N",
            description = "Numbers per client (default: " + DEFAULT_COUNT + "). With --duration: the payload each client repeats.")
    private Long count;

    @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Send for this long instead of sending each payload once (e.g. 30s).")
    private Duration duration;

    @Option(names = "--range", paramLabel = "R", defaultValue = "1000000000",
            description = "Numbers are drawn uniformly from [0, R): 10^9 gives mostly unique numbers, 10^6 mostly duplicates.")
    private int range;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed: the same seed sends the same numbers.")
    private long seed;

    @Option(names = "--terminate", description = "Send 'terminate' when every client is done.")
    private boolean terminate;

    @Option(names = "--verify", paramLabel = "LOG",
            description = "After the run, check that LOG holds exactly the unique numbers sent, once each.")
    private Path verify;

    @Option(names = "--sink", description = "Run a null server on --port instead (accept, read, discard) to measure the ceiling.")
    private boolean sink;

    @Option(names = "--no-progress", description = "No progress line on stderr.")
    private boolean noProgress;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    private boolean help;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintStream out = System.out;
        PrintStream err = System.err;
        if (sink) {
            Sink.run(new InetSocketAddress(host, port), err);
            return 0;
        }
        long lines = count != null ? count : DEFAULT_COUNT;
        if (clients < 1) {
            err.println("load: --clients must be at least 1");
            return 2;
        }
        long generateStart = System.nanoTime();
        Workload workload;
        try {
            workload = Workload.generate(clients, lines, range, seed);
        } catch (IllegalArgumentException e) {
            err.println("load: " + e.getMessage());
            return 2;
        } catch (OutOfMemoryError e) {
            err.println("load: not enough memory for " + clients + " x " + lines
                    + " numbers; use fewer, or more -XX:MaxDirectMemorySize");
            return 1;
        }
        err.printf(Locale.ROOT, "load: generated %d x %,d numbers over [0, %d) with seed %d in %.1f s%n",
                clients, lines, range, seed, (System.nanoTime() - generateStart) / 1e9);

        InetSocketAddress server = new InetSocketAddress(host, port);
        LoadRun run = new LoadRun(server, workload, duration);
        LoadRun.Result result;
        try (Progress ignored = noProgress ? null : new Progress(err, run::linesSentSoFar,
                duration == null ? lines * clients : 0, duration == null ? 0 : duration.toNanos(), System.console() != null)) {
            result = run.run();
        }
        if (!result.failures().isEmpty()) {
            result.failures().forEach(failure -> err.println("load: " + failure));
            err.println("load: the run failed; not sending terminate, not verifying");
            return 1;
        }
        out.println(summary(result));
        out.flush();
        try {
            if (terminate) {
                LoadRun.sendTerminate(server);
                err.println("load: sent terminate");
            }
            if (verify != null) {
                LogVerifier.Verdict verdict = LogVerifier.verify(verify, expectedSet(workload, result), Workload.NEWLINE);
                out.println(verdict.describe());
                return verdict.ok() ? 0 : 1;
            }
        } catch (IOException e) {
            err.println("load: " + (terminate && verify == null ? "cannot send terminate: " : "cannot terminate or verify: ") + e);
            return 1;
        }
        return 0;
    }

    /** {@code load: 100000000 numbers in 5.234 s: 19105613 numbers/s, 191.1 MB/s}. */
    static String summary(LoadRun.Result result) {
        double seconds = result.elapsedNanos() / 1e9;
        long numbers = result.totalLines();
        double perSecond = seconds > 0 ? numbers / seconds : 0;
        return String.format(Locale.ROOT, "load: %d numbers in %.3f s: %.0f numbers/s, %.1f MB/s",
                numbers, seconds, perSecond, perSecond * Workload.LINE_BYTES / 1e6);
    }

    /** The numbers the clients actually sent, as a bitset over [0, range). */
    private static long[] expectedSet(Workload workload, LoadRun.Result result) {
        long[] expected = new long[(workload.range() + 63) >>> 6];
        for (int c = 0; c < workload.clients(); c++) {
            workload.forEachNumber(c, result.linesSent()[c], n -> expected[n >>> 6] |= 1L << n);
        }
        return expected;
    }
}
