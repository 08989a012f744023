package dev.numbers.load;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The load generator: sends reproducible numbers from several clients at once and reports the
 * end-to-end rate; optionally terminates the server and checks its log. {@link Sink} is the null
 * server that measures the machine's ceiling. Runs on the caller's thread (the clients and the
 * progress line have their own). Progress and errors go to {@code err}, one line each, every one
 * starting {@code load: } (or {@code verify: } for the check's progress); the summary and the
 * verdict go to {@code out}.
 */
public final class LoadGenerator {

    /**
     * Connections at most: numbers-server's largest --max-clients. More could only be refused by
     * it; each costs a thread and its own payload.
     */
    public static final int MAX_CLIENTS = 1024;
    private static final int MAX_PORT = 65_535;
    /** Numbers added to the expected set between two looks of the progress line. */
    private static final long LISTING_CHUNK = 1_000_000;
    /**
     * How long a run waits with connections written and none closed by the server (nor any new
     * one written) before it fails: far longer than any pause of a working server (a forced
     * write, a collection), and short enough that a server that holds connections open is named
     * promptly.
     */
    public static final long CLOSE_TIMEOUT_MS = 10_000;

    /**
     * A load run; the constructor checks every part.
     *
     * @param host      where to send
     * @param port      its port
     * @param clients   connections, one thread each
     * @param count     numbers per client (with a duration: the payload each client repeats)
     * @param duration  send for this long instead of once; null: once
     * @param range     numbers are drawn uniformly from [0, range)
     * @param seed      the same seed sends the same numbers
     * @param terminate send {@code terminate} when every client is done
     * @param verify    the server's log to check afterwards, or null
     * @param progress  progress lines on {@code err} (sending, and verifying)
     * @param reconnectEvery null: one connection per client; else churn, a new connection every
     *                  this many numbers, 1 to {@code count}, without {@code duration}
     * @throws IllegalArgumentException for a part out of range; the message names its option:
     *         {@code --clients must be 1 to 1024, got 0}
     */
    public record Plan(InetAddress host, int port, int clients, long count, Duration duration, int range, long seed,
                       boolean terminate, Path verify, boolean progress, Long reconnectEvery) {
        public Plan {
            if (port < 1 || port > MAX_PORT) {
                throw new IllegalArgumentException("--port must be 1 to " + MAX_PORT + " (0 only with --sink), got " + port);
            }
            if (clients < 1 || clients > MAX_CLIENTS) {
                throw new IllegalArgumentException("--clients must be 1 to " + MAX_CLIENTS + ", got " + clients);
            }
            if (count < 1 || count > Workload.MAX_LINES_PER_CLIENT) {
                throw new IllegalArgumentException("--count must be 1 to " + Workload.MAX_LINES_PER_CLIENT
                        + " (a client's payload is one buffer of at most 2 GB), got " + count);
            }
            if (duration != null && (duration.isZero() || duration.isNegative())) {
                throw new IllegalArgumentException("--duration must be more than 0 (leave it out to send each payload once)");
            }
            if (range < 1 || range > Workload.MAX_RANGE) {
                throw new IllegalArgumentException("--range must be 1 to " + Workload.MAX_RANGE + ", got " + range);
            }
            if (reconnectEvery != null) {
                if (reconnectEvery < 1 || reconnectEvery > count) {
                    throw new IllegalArgumentException("--reconnect-every must be 1 to --count (" + count + "), got " + reconnectEvery);
                }
                if (duration != null) {
                    throw new IllegalArgumentException("--reconnect-every sends each payload once: leave out --duration");
                }
            }
        }

        boolean churn() {
            return reconnectEvery != null;
        }

        InetSocketAddress server() {
            return new InetSocketAddress(host, port);
        }
    }

    private LoadGenerator() {
    }

    /**
     * Runs {@code plan}: generates the payloads, sends them, prints the summary, then sends
     * {@code terminate} and verifies the log if asked. Every failure is a line on {@code err}.
     * The clock stops when the server has closed every connection; connections it leaves open,
     * closing none for 10 s, fail the run.
     *
     * @return true if every client finished (and terminate was sent, and the log verified)
     */
    public static boolean run(Plan plan, PrintWriter out, PrintWriter err) throws InterruptedException {
        return run(plan, out, err, TimeUnit.MILLISECONDS.toNanos(CLOSE_TIMEOUT_MS));
    }

    /** {@link #run(Plan, PrintWriter, PrintWriter)}, with the close timeout its own. */
    static boolean run(Plan plan, PrintWriter out, PrintWriter err, long closeTimeoutNanos) throws InterruptedException {
        long generateStart = System.nanoTime();
        Workload workload;
        try {
            workload = Workload.generate(plan.clients(), plan.count(), plan.range(), plan.seed());
        } catch (OutOfMemoryError e) {
            err.println("load: not enough memory for " + plan.clients() + " x " + plan.count()
                    + " numbers; use fewer, or more -XX:MaxDirectMemorySize");
            return false;
        }
        err.printf(Locale.ROOT, "load: generated %d x %,d numbers over [0, %d) with seed %d in %.1f s%n",
                plan.clients(), plan.count(), plan.range(), plan.seed(), (System.nanoTime() - generateStart) / 1e9);

        LoadRun run = new LoadRun(plan.server(), workload, plan.duration(), plan.reconnectEvery(), closeTimeoutNanos);
        LoadRun.Result result = withProgress(plan, err, Progress.sending(run::linesSentSoFar,
                plan.duration() == null ? plan.count() * plan.clients() : 0,
                plan.duration() == null ? 0 : plan.duration().toNanos()), run::run);
        List<String> failures = result.failures();
        if (!failures.isEmpty()) {
            // One line per failure; the last says what the failure cancels, if anything.
            String skipped = plan.terminate() && plan.verify() != null ? "; not sending terminate, not verifying"
                    : plan.terminate() ? "; not sending terminate" : plan.verify() != null ? "; not verifying" : "";
            for (int i = 0; i < failures.size(); i++) {
                err.println("load: " + failures.get(i) + (i == failures.size() - 1 ? skipped : ""));
            }
            err.flush();
            return false;
        }
        out.println(plan.churn() ? churnSummary(result) : summary(result));
        out.flush();
        if (plan.terminate()) {
            try {
                LoadRun.sendTerminate(plan.server());
                err.println("load: sent terminate");
            } catch (IOException e) {
                err.println("load: cannot send terminate to " + describe(plan.server()) + ": " + e.getMessage());
                err.flush();
                return false;
            }
        }
        if (plan.verify() != null) {
            try {
                long logBytes = Files.size(plan.verify()); // before the listing: a missing log fails at once
                LogVerifier.Verdict verdict = readLog(plan, listExpected(plan, workload, result, err), logBytes, err);
                out.println(verdict.describe());
                out.flush();
                return verdict.ok();
            } catch (IOException e) {
                err.println("load: cannot verify " + plan.verify() + ": " + describe(e));
                err.flush();
                return false;
            }
        }
        return true;
    }

    /** {@code load: 100000000 numbers in 5.234 s: 19105613 numbers/s, 191.1 MB/s}; scripts parse it. */
    static String summary(LoadRun.Result result) {
        double seconds = result.elapsedNanos() / 1e9;
        long numbers = result.totalLines();
        double perSecond = seconds > 0 ? numbers / seconds : 0;
        return String.format(Locale.ROOT, "load: %d numbers in %.3f s: %.0f numbers/s, %.1f MB/s",
                numbers, seconds, perSecond, perSecond * Workload.LINE_BYTES / 1e6);
    }

    /** The summary, then the connections: {@code ..., 191.1 MB/s, 100000 connections, 19106 connections/s}. */
    static String churnSummary(LoadRun.Result result) {
        double seconds = result.elapsedNanos() / 1e9;
        return summary(result) + String.format(Locale.ROOT, ", %d connections, %.0f connections/s",
                result.connections(), seconds > 0 ? result.connections() / seconds : 0);
    }

    /** {@code 127.0.0.1:4000}, {@code [::1]:4000}: without the slash InetSocketAddress puts first. */
    static String describe(InetSocketAddress address) {
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /**
     * The check, in two phases that each take a while for a large run (for 5 x 20 M numbers,
     * tens of seconds: each number is a cache miss in a 125 MB set), so each has a progress line:
     * listing the numbers sent into the expected set, then reading the log. This is the first;
     * a duration repeats each payload, whose lines are listed once.
     */
    private static long[] listExpected(Plan plan, Workload workload, LoadRun.Result result, PrintWriter err) {
        long[] lines = result.linesSent();
        long toList = 0;
        for (int c = 0; c < workload.clients(); c++) {
            toList += Math.min(lines[c], workload.linesPerClient());
        }
        AtomicLong listed = new AtomicLong();
        long[] expected = new long[(workload.range() + 63) >>> 6];
        return withProgress(plan, err, Progress.listing(listed::get, toList), () -> {
            for (int c = 0; c < workload.clients(); c++) {
                long clientLines = Math.min(lines[c], workload.linesPerClient());
                for (long from = 0; from < clientLines; from += LISTING_CHUNK) {
                    long to = Math.min(from + LISTING_CHUNK, clientLines);
                    workload.forEachNumber(c, from, to, n -> expected[n >>> 6] |= 1L << n);
                    listed.addAndGet(to - from);
                }
            }
            return expected;
        });
    }

    /** The second phase of the check: reading the log, {@code logBytes} long, against {@code expected}. */
    private static LogVerifier.Verdict readLog(Plan plan, long[] expected, long logBytes, PrintWriter err)
            throws IOException {
        AtomicLong read = new AtomicLong();
        return withProgress(plan, err, Progress.reading(read::get, logBytes),
                () -> LogVerifier.verify(plan.verify(), expected, Workload.NEWLINE, read::set));
    }

    /** A phase of the run that has a progress line. */
    private interface Phase<T, E extends Exception> {
        T run() throws E;
    }

    /** Runs {@code phase} with its progress line on {@code err} (unless --no-progress). */
    private static <T, E extends Exception> T withProgress(Plan plan, PrintWriter err, Supplier<String> line,
                                                           Phase<T, E> phase) throws E {
        Progress progress = plan.progress() ? new Progress(err, line, System.console() != null).start() : null;
        try {
            return phase.run();
        } finally {
            if (progress != null) {
                progress.close();
            }
        }
    }

    /** A short cause: NIO's file exceptions often carry only the path, which the line already has. */
    private static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
