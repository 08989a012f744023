package dev.numbers;

import java.io.PrintStream;

/**
 * Prints the periodic report to stdout:
 * {@code Received 50 unique numbers, 2 duplicates. Unique total: 567231}. The first two figures
 * count since the previous report, the last since startup.
 *
 * <p>Run by one scheduler thread at a fixed rate; each line is flushed at once so that a script
 * reading the pipe sees it when it is printed.
 */
final class StatsReporter implements Runnable {

    private final Stats stats;
    private final PrintStream out;
    private long lastUnique;
    private long lastDuplicates;

    StatsReporter(Stats stats, PrintStream out) {
        this.stats = stats;
        this.out = out;
    }

    @Override
    public void run() {
        long unique = stats.uniqueTotal();
        long duplicates = stats.duplicateTotal();
        out.println(format(unique - lastUnique, duplicates - lastDuplicates, unique));
        out.flush();
        lastUnique = unique;
        lastDuplicates = duplicates;
    }

    static String format(long newUnique, long newDuplicates, long uniqueTotal) {
        return "Received " + newUnique + " unique numbers, " + newDuplicates + " duplicates. Unique total: " + uniqueTotal;
    }
}
