package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's threads: named by role, daemons (the process ends by its own exit, not by them),
 * and each with an uncaught-exception handler that reports through {@link Diagnostics}, so that
 * a crash is one ERROR line (shown even with {@code --quiet}), never a raw stack trace.
 */
final class Threads {

    private static final Thread.UncaughtExceptionHandler REPORT =
            (thread, failure) -> Diagnostics.unexpected("thread " + thread.getName(), failure);

    private Threads() {
    }

    /** A factory of threads named {@code role-1}, {@code role-2}, ... */
    static ThreadFactory named(String role) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, role + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            thread.setUncaughtExceptionHandler(REPORT);
            return thread;
        };
    }

    /** Runs {@code task} on {@code timer} every {@code periodNanos} (after each run), reporting a failure as {@code what}. */
    static void every(ScheduledExecutorService timer, long periodNanos, String what, Runnable task) {
        timer.scheduleWithFixedDelay(reporting(what, task), periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A periodic task that reports a failure and keeps its schedule: a
     * {@code ScheduledExecutorService} silently cancels a task that throws.
     */
    static Runnable reporting(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                Diagnostics.unexpected(what, e);
            }
        };
    }
}
