package dev.numbers.server;

/** A stop asked for before the server had started: not a failure, so it carries no stack trace. */
final class StopDuringStartup extends Exception {
    private static final long serialVersionUID = 1L;

    StopDuringStartup(String reason) {
        super(reason, null, false, false);
    }
}
