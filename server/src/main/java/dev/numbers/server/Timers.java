package dev.numbers.server;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The server's two timers. The report has one of its own, at a fixed rate (a slow run does not
 * push the next ones back), so that a stdout that blocks holds up nothing else; housekeeping (the
 * rate sample for STATS, and the idle watchdog) has the other. A task that throws is reported and
 * keeps its schedule ({@link Threads#reporting}).
 */
final class Timers {

    /** The idle watchdog looks a quarter of the timeout apart, within these bounds. */
    private static final long WATCHDOG_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long WATCHDOG_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final ScheduledExecutorService report;
    private final ScheduledExecutorService housekeeping;

    private Timers(ScheduledExecutorService report, ScheduledExecutorService housekeeping) {
        this.report = report;
        this.housekeeping = housekeeping;
    }

    /** Starts the report every {@code --report-interval}, the rate sample, and the idle watchdog if configured. */
    static Timers start(ServerConfig config, StatsReporter reporter, Stats stats, ClientSlots slots) {
        Timers timers = new Timers(Executors.newSingleThreadScheduledExecutor(Threads.named("report")),
                Executors.newSingleThreadScheduledExecutor(Threads.named("housekeeping")));
        long intervalNanos = config.reportInterval().toNanos();
        timers.report.scheduleAtFixedRate(Threads.reporting("the report", reporter), intervalNanos, intervalNanos,
                TimeUnit.NANOSECONDS);
        timers.housekeeping.scheduleAtFixedRate(Threads.reporting("the rate sample", stats::sampleRate), 1, 1, TimeUnit.SECONDS);
        if (!config.idleTimeout().isZero()) {
            long timeoutNanos = config.idleTimeout().toNanos();
            long periodNanos = Math.max(WATCHDOG_MIN_NANOS, Math.min(WATCHDOG_MAX_NANOS, timeoutNanos / 4));
            timers.housekeeping.scheduleWithFixedDelay(Threads.reporting("the idle watchdog", () -> slots.disconnectIdle(timeoutNanos)),
                    periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        }
        return timers;
    }

    /** Stops both timers; a task under way is interrupted (none of them does I/O but the report's print). */
    void close() {
        report.shutdownNow();
        housekeeping.shutdownNow();
    }
}
