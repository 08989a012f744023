package dev.numbers.load;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The live progress line of one phase of a load run (sending, listing the numbers sent,
 * reading the log) on stderr. On a terminal it redraws one line five times a second; otherwise
 * it prints a line a second, so that a file gets a readable history.
 *
 * <p>Its own daemon thread, "load-progress", started by {@link #start} and stopped by
 * {@link #close}, which on a terminal draws the final state and ends the line. {@code line} is
 * called on that thread and must be safe to call from it; nothing else prints to {@code out}
 * while the phase runs.
 */
final class Progress implements AutoCloseable {

    private static final long TERMINAL_PERIOD_MS = 200;
    private static final long LINE_PERIOD_MS = 1_000;
    private static final int BAR_WIDTH = 30;
    private static final double BYTES_PER_MB = 1e6;

    private final PrintWriter out;
    private final Supplier<String> line;
    private final boolean terminal;
    private final Thread thread;
    private volatile boolean running = true;
    /** Terminal only: the length of the line drawn last, so that a shorter one blanks the rest. */
    private int drawnLength;

    Progress(PrintWriter out, Supplier<String> line, boolean terminal) {
        this.out = out;
        this.line = line;
        this.terminal = terminal;
        this.thread = new Thread(this::loop, "load-progress");
        this.thread.setDaemon(true);
        this.thread.setUncaughtExceptionHandler((t, e) -> {
            out.println("load: the progress line failed, please report it: " + e);
            out.flush();
        });
    }

    /** Starts drawing; returns this. */
    Progress start() {
        thread.start();
        return this;
    }

    /** Sending: {@code sent 1,000,000 of 5,000,000 [######.....]  20%  19.10 M numbers/s  0.1 s}. */
    static Supplier<String> sending(LongSupplier sent, long totalLines, long durationNanos) {
        long start = System.nanoTime();
        return () -> {
            long lines = sent.getAsLong();
            long elapsed = System.nanoTime() - start;
            double seconds = elapsed / 1e9;
            double fraction = totalLines > 0 ? (double) lines / totalLines : Math.min(1.0, (double) elapsed / durationNanos);
            int filled = (int) Math.round(fraction * BAR_WIDTH);
            return String.format(Locale.ROOT, "sent %,d%s [%s%s] %3.0f%%  %.2f M numbers/s  %.1f s",
                    lines, totalLines > 0 ? String.format(Locale.ROOT, " of %,d", totalLines) : "",
                    "#".repeat(filled), ".".repeat(BAR_WIDTH - filled), fraction * 100,
                    seconds > 0 ? lines / seconds / 1e6 : 0.0, seconds);
        };
    }

    /** Collecting the numbers sent: {@code verify: listed 40,000,000 of 100,000,000 numbers sent (40%)}. */
    static Supplier<String> listing(LongSupplier listed, long total) {
        return () -> {
            long done = listed.getAsLong();
            return String.format(Locale.ROOT, "verify: listed %,d of %,d numbers sent (%d%%)", done, total, percent(done, total));
        };
    }

    /** Reading the log: {@code verify: read 512 MB of 941 MB (54%)}. */
    static Supplier<String> reading(LongSupplier bytesRead, long totalBytes) {
        return () -> {
            long done = bytesRead.getAsLong();
            return String.format(Locale.ROOT, "verify: read %.0f MB of %.0f MB (%d%%)",
                    done / BYTES_PER_MB, totalBytes / BYTES_PER_MB, percent(done, totalBytes));
        };
    }

    /** Whole percent, rounded down so that 100% means done. */
    private static long percent(long done, long total) {
        return total > 0 ? Math.min(100, done * 100 / total) : 100;
    }

    private void loop() {
        long period = terminal ? TERMINAL_PERIOD_MS : LINE_PERIOD_MS;
        while (running) {
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return; // close() interrupts: the phase is over
            }
            if (running) {
                draw();
            }
        }
    }

    private void draw() {
        String text = line.get();
        if (terminal) {
            out.print("\r" + text + " ".repeat(Math.max(0, drawnLength - text.length())));
            drawnLength = text.length();
        } else {
            out.println(text);
        }
        out.flush();
    }

    /** Stops the thread; on a terminal, draws the final state and ends the line. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (terminal) {
            draw();
            out.println();
            out.flush();
        }
    }
}
