package dev.numbers.cli;

import dev.numbers.server.NumberServer;

/** The process exit statuses of {@code numbers-server} and {@code numbers-server load}, in one place. */
public enum ExitStatus {
    /** The server stopped cleanly (terminate, SIGINT, SIGTERM); a load run finished (and verified). */
    OK(0),
    /** The server could not start, or failed; a load run failed or its log did not verify. */
    FAILURE(1),
    /** A bad command line: one line on stderr says what, and {@code --help} how. */
    USAGE(2),
    /** The server stopped while the disk was failing: numbers it accepted are missing from the log. */
    LOG_INCOMPLETE(3);

    private final int code;

    ExitStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The status for how a server's run ended. */
    public static ExitStatus of(NumberServer.Outcome outcome) {
        return switch (outcome) {
            case STOPPED -> OK;
            case LOG_INCOMPLETE -> LOG_INCOMPLETE;
            case FAILED -> FAILURE;
        };
    }
}
