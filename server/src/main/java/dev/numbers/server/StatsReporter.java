package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The periodic report on stdout, and its schedule:
 * {@code Received 50 unique numbers, 2 duplicates. Unique total: 567231}. The first two figures
 * count since the previous report, the last since startup. Each line is flushed at once, so that
 * a script reading the pipe sees it when it is printed; a stdout that stops taking lines (a
 * closed pipe) is said once on stderr.
 *
 * <p>A timer thread of its own, so that a stdout that blocks holds up nothing else. The schedule
 * is fixed, one interval after another from the start, and a slow print does not push the next
 * report back; but a tick that a pause of the process missed (SIGSTOP, a stall) is skipped, not
 * caught up: after a pause one report comes, at once, counting everything since the one before,
 * then the schedule goes on (a fixed-rate timer would print every missed tick in a burst, most of
 * them {@code Received 0 unique numbers}).
 */
final class StatsReporter implements Runnable {

    private final Stats stats;
    private final PrintStream out;
    private final long intervalNanos;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Threads.named("report"));
    private final Runnable report = Threads.reporting("the report", this);
    private long startNanos;
    private long lastUnique;
    private long lastDuplicates;
    private boolean saidBroken;

    StatsReporter(Stats stats, PrintStream out, Duration interval) {
        this.stats = stats;
        this.out = out;
        this.intervalNanos = interval.toNanos();
    }

    /** Starts the schedule: the first report one interval from now. */
    void start() {
        startNanos = System.nanoTime();
        timer.schedule(this::reportAndReschedule, intervalNanos, TimeUnit.NANOSECONDS);
    }

    /** Stops the schedule; a report being printed is interrupted. No report is printed at the stop. */
    void stop() {
        timer.shutdownNow();
    }

    /**
     * The first tick of the schedule {@code start + k * interval} that is later than {@code now}:
     * the next one, when a report ran on time or printed slowly; after a pause, the first one
     * the pause did not swallow.
     */
    static long nextTick(long startNanos, long intervalNanos, long nowNanos) {
        return startNanos + ((nowNanos - startNanos) / intervalNanos + 1) * intervalNanos;
    }

    private void reportAndReschedule() {
        report.run();
        long now = System.nanoTime();
        try {
            timer.schedule(this::reportAndReschedule, nextTick(startNanos, intervalNanos, now) - now, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException ignored) {
            // stop() ran while this report printed: there is no next one.
        }
    }

    /** Prints one report line. */
    @Override
    public void run() {
        long unique = stats.uniqueTotal();
        long duplicates = stats.duplicateTotal();
        out.println(format(unique - lastUnique, duplicates - lastDuplicates, unique));
        out.flush();
        lastUnique = unique;
        lastDuplicates = duplicates;
        if (out.checkError() && !saidBroken) {
            saidBroken = true;
            Diagnostics.warn("stdout does not take the report lines (a closed pipe?); the reports are lost");
        }
    }

    static String format(long newUnique, long newDuplicates, long uniqueTotal) {
        return "Received " + newUnique + " unique numbers, " + newDuplicates + " duplicates. Unique total: " + uniqueTotal;
    }
}
