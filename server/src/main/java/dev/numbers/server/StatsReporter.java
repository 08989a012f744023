package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.PrintStream;

/**
 * Prints the periodic report to stdout:
 * {@code Received 50 unique numbers, 2 duplicates. Unique total: 567231}. The first two figures
 * count since the previous report, the last since startup.
 *
 * <p>Run by the report timer's one thread, at a fixed rate; each line is flushed at once so that
 * a script reading the pipe sees it when it is printed. If stdout stops taking lines (a closed
 * pipe), that is said once on stderr.
 */
final class StatsReporter implements Runnable {

    private final Stats stats;
    private final PrintStream out;
    private long lastUnique;
    private long lastDuplicates;
    private boolean saidBroken;

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
        if (out.checkError() && !saidBroken) {
            saidBroken = true;
            Diagnostics.warn("stdout does not take the report lines (a closed pipe?); the reports are lost");
        }
    }

    static String format(long newUnique, long newDuplicates, long uniqueTotal) {
        return "Received " + newUnique + " unique numbers, " + newDuplicates + " duplicates. Unique total: " + uniqueTotal;
    }
}
