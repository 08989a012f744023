package dev.numbers.load;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The load generator: sends reproducible numbers from several clients at once and reports the
 * end-to-end rate; optionally terminates the server and checks its log. {@link Sink} is the null
 * server that measures the machine's ceiling. Progress and errors go to {@code err}, the summary
 * and the verdict to {@code out}.
 */
public final class LoadGenerator {

    /**
     * A load run.
     *
     * @param server    where to send
     * @param clients   connections, one thread each
     * @param count     numbers per client (with a duration: the payload each client repeats)
     * @param duration  send for this long instead of once; null: once
     * @param range     numbers are drawn uniformly from [0, range)
     * @param seed      the same seed sends the same numbers
     * @param terminate send {@code terminate} when every client is done
     * @param verify    the server's log to check afterwards, or null
     * @param progress  progress lines on {@code err} (sending, and verifying)
     */
    public record Plan(InetSocketAddress server, int clients, long count, Duration duration, int range, long seed,
                       boolean terminate, Path verify, boolean progress) {
    }

    /** Numbers added to the expected set between two looks of the progress line. */
    private static final long LISTING_CHUNK = 1_000_000;

    private LoadGenerator() {
    }

    /**
     * Runs {@code plan}.
     *
     * @return true if every client finished (and the log verified)
     * @throws IllegalArgumentException for a plan out of range (the message says which part)
     */
    public static boolean run(Plan plan, PrintWriter out, PrintWriter err) throws InterruptedException {
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

        LoadRun run = new LoadRun(plan.server(), workload, plan.duration());
        LoadRun.Result result = withProgress(plan, err, Progress.sending(run::linesSentSoFar,
                plan.duration() == null ? plan.count() * plan.clients() : 0,
                plan.duration() == null ? 0 : plan.duration().toNanos()), run::run);
        if (!result.failures().isEmpty()) {
            result.failures().forEach(failure -> err.println("load: " + failure));
            err.println("load: the run failed; not sending terminate, not verifying");
            return false;
        }
        out.println(summary(result));
        out.flush();
        try {
            if (plan.terminate()) {
                LoadRun.sendTerminate(plan.server());
                err.println("load: sent terminate");
            }
            if (plan.verify() != null) {
                LogVerifier.Verdict verdict = verify(plan, workload, result, err);
                out.println(verdict.describe());
                return verdict.ok();
            }
        } catch (IOException e) {
            err.println("load: " + (plan.terminate() && plan.verify() == null ? "cannot send terminate: " : "cannot terminate or verify: ") + e);
            return false;
        }
        return true;
    }

    /** {@code load: 100000000 numbers in 5.234 s: 19105613 numbers/s, 191.1 MB/s}. */
    static String summary(LoadRun.Result result) {
        double seconds = result.elapsedNanos() / 1e9;
        long numbers = result.totalLines();
        double perSecond = seconds > 0 ? numbers / seconds : 0;
        return String.format(Locale.ROOT, "load: %d numbers in %.3f s: %.0f numbers/s, %.1f MB/s",
                numbers, seconds, perSecond, perSecond * Workload.LINE_BYTES / 1e6);
    }

    /** {@code 127.0.0.1:4000}, {@code [::1]:4000}: without the slash InetSocketAddress puts first. */
    static String describe(InetSocketAddress address) {
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /**
     * The check after the run, in two phases that each take a while for a large run (for 5 x 20 M
     * numbers, tens of seconds: each number is a cache miss in a 125 MB set), so each has a
     * progress line: listing the numbers sent into the expected set, then reading the log.
     */
    private static LogVerifier.Verdict verify(Plan plan, Workload workload, LoadRun.Result result, PrintWriter err)
            throws IOException {
        long logBytes = Files.size(plan.verify());
        long toList = 0;
        for (int c = 0; c < workload.clients(); c++) {
            toList += Math.min(result.linesSent()[c], workload.linesPerClient());
        }
        AtomicLong listed = new AtomicLong();
        long[] expected = new long[(workload.range() + 63) >>> 6];
        withProgress(plan, err, Progress.listing(listed::get, toList), () -> {
            for (int c = 0; c < workload.clients(); c++) {
                long lines = Math.min(result.linesSent()[c], workload.linesPerClient());
                for (long from = 0; from < lines; from += LISTING_CHUNK) {
                    long to = Math.min(from + LISTING_CHUNK, lines);
                    workload.forEachNumber(c, from, to, n -> expected[n >>> 6] |= 1L << n);
                    listed.addAndGet(to - from);
                }
            }
            return expected;
        });
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
}
