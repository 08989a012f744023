package dev.numbers.server;

import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The server's two timers. The report has one of its own, so that a stdout that blocks holds up
 * nothing else; housekeeping (the rate sample for STATS, the check that the log is still at its
 * path, and the idle watchdog) has the other. A task that throws is reported and keeps its
 * schedule ({@link Threads#reporting}).
 *
 * <p>The report keeps a fixed schedule, one interval after another from the start, and a slow
 * print does not push the next one back; but a tick that a pause of the process missed (SIGSTOP,
 * a stall) is skipped, not caught up: after a pause one report comes, at once, counting
 * everything since the one before, then the schedule goes on (a fixed-rate timer would print
 * every missed tick in a burst, most of them {@code Received 0 unique numbers}).
 */
final class Timers {

    /** The idle watchdog looks a quarter of the timeout apart, within these bounds. */
    private static final long WATCHDOG_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long WATCHDOG_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long HOUSEKEEPING_PERIOD_MS = 1_000;

    private final ScheduledExecutorService report;
    private final ScheduledExecutorService housekeeping;
    private final Runnable reporter;
    private final long startNanos;
    private final long intervalNanos;

    private Timers(ServerConfig config, Runnable reporter) {
        this.report = Executors.newSingleThreadScheduledExecutor(Threads.named("report"));
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(Threads.named("housekeeping"));
        this.reporter = Threads.reporting("the report", reporter);
        this.startNanos = System.nanoTime();
        this.intervalNanos = config.reportInterval().toNanos();
    }

    /** Starts the report every {@code --report-interval}, the housekeeping, and the idle watchdog if configured. */
    static Timers start(ServerConfig config, StatsReporter reporter, Stats stats, NumberLog log, ClientSlots slots) {
        Timers timers = new Timers(config, reporter);
        timers.report.schedule(timers::reportAndReschedule, timers.intervalNanos, TimeUnit.NANOSECONDS);
        timers.housekeeping.scheduleWithFixedDelay(Threads.reporting("the rate sample", stats::sampleRate),
                HOUSEKEEPING_PERIOD_MS, HOUSEKEEPING_PERIOD_MS, TimeUnit.MILLISECONDS);
        timers.housekeeping.scheduleWithFixedDelay(Threads.reporting("the log's path check", log::checkPath),
                HOUSEKEEPING_PERIOD_MS, HOUSEKEEPING_PERIOD_MS, TimeUnit.MILLISECONDS);
        if (!config.idleTimeout().isZero()) {
            long timeoutNanos = config.idleTimeout().toNanos();
            long periodNanos = Math.max(WATCHDOG_MIN_NANOS, Math.min(WATCHDOG_MAX_NANOS, timeoutNanos / 4));
            timers.housekeeping.scheduleWithFixedDelay(Threads.reporting("the idle watchdog", () -> slots.disconnectIdle(timeoutNanos, System.nanoTime())),
                    periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        }
        return timers;
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
        reporter.run();
        long now = System.nanoTime();
        try {
            report.schedule(this::reportAndReschedule, nextTick(startNanos, intervalNanos, now) - now, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException ignored) {
            // close() ran while this report printed: there is no next one.
        }
    }

    /** Stops both timers; a task under way is interrupted (none of them does I/O but the report's print). */
    void close() {
        report.shutdownNow();
        housekeeping.shutdownNow();
    }
}
