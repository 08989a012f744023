package dev.numbers;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** The server's threads: daemons (the process ends by its own exit, not by them), named by role. */
final class Threads {

    private Threads() {
    }

    /** Sleeps; an interrupt ends the sleep early and stays set for the caller to see. */
    static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A factory of daemon threads named {@code name-1}, {@code name-2}, ... */
    static ThreadFactory daemons(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
