package dev.numbers.load;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The live progress line on stderr: numbers sent, rate, elapsed time, and a bar when the end is
 * known (a count, or a duration). On a terminal it redraws one line; otherwise it prints a line
 * a second. A daemon thread; stopped with {@link #close}.
 */
final class Progress implements AutoCloseable {

    private static final int BAR_WIDTH = 30;

    private final PrintStream out;
    private final LongSupplier sent;
    private final long totalLines;
    private final long durationNanos;
    private final boolean terminal;
    private final Thread thread;
    private volatile boolean running = true;
    private final long start = System.nanoTime();

    /**
     * @param totalLines lines to send, or 0 if a duration decides
     * @param durationNanos the duration, or 0 if a count decides
     */
    Progress(PrintStream out, LongSupplier sent, long totalLines, long durationNanos, boolean terminal) {
        this.out = out;
        this.sent = sent;
        this.totalLines = totalLines;
        this.durationNanos = durationNanos;
        this.terminal = terminal;
        this.thread = new Thread(this::loop, "load-progress");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void loop() {
        long period = terminal ? 200 : 1_000;
        while (running) {
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
            if (running) {
                print();
            }
        }
    }

    private void print() {
        long lines = sent.getAsLong();
        long elapsed = System.nanoTime() - start;
        double seconds = elapsed / 1e9;
        double fraction = totalLines > 0 ? (double) lines / totalLines : Math.min(1.0, (double) elapsed / durationNanos);
        int filled = (int) Math.round(fraction * BAR_WIDTH);
        String line = String.format(Locale.ROOT, "sent %,d%s [%s%s] %3.0f%%  %.2f M numbers/s  %.1f s",
                lines, totalLines > 0 ? String.format(Locale.ROOT, " of %,d", totalLines) : "",
                "#".repeat(filled), ".".repeat(BAR_WIDTH - filled), fraction * 100,
                seconds > 0 ? lines / seconds / 1e6 : 0.0, seconds);
        if (terminal) {
            out.print("\r" + line);
        } else {
            out.println(line);
        }
        out.flush();
    }

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
            print();
            out.println();
            out.flush();
        }
    }
}
