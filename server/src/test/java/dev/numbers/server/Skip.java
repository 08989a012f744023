package dev.numbers.server;

import org.junit.jupiter.api.Assumptions;

/**
 * Skips a test that this machine cannot run (no root for a tmpfs, a port taken), and says why on
 * the console: a bare "Skipped: 1" in the build's summary hides a test that did not run.
 */
final class Skip {

    private Skip() {
    }

    /** Skips the calling test unless {@code condition} holds, printing {@code why} to stderr. */
    static void unless(boolean condition, String why) {
        if (!condition) {
            System.err.println("SKIPPED " + caller() + ": " + why);
        }
        Assumptions.assumeTrue(condition, why);
    }

    private static String caller() {
        StackTraceElement frame = new Throwable().getStackTrace()[2];
        String simpleName = frame.getClassName().substring(frame.getClassName().lastIndexOf('.') + 1);
        return simpleName + "." + frame.getMethodName();
    }
}
