package dev.numbers.server;

/**
 * An expected failure to start (port in use, log not writable, not enough memory): the message
 * is shown to the user as one line, without a stack trace.
 */
public final class StartupException extends Exception {

    private static final long serialVersionUID = 1L;

    StartupException(String message, Throwable cause) {
        super(message, cause);
    }

    StartupException(String message) {
        super(message);
    }
}
