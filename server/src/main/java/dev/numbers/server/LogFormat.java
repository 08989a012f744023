package dev.numbers.server;

import java.util.Locale;

/**
 * How a number is written to the log: {@code stripped} (the default: {@code 007007009} becomes
 * {@code 7007009}, {@code 000000000} becomes {@code 0}) or {@code padded} (the nine digits as
 * received). Either way the line ends with the server's line separator. The lines are made on
 * the hot path, by {@link ClientSession#appendNew}.
 */
public enum LogFormat {
    STRIPPED,
    PADDED;

    /** The option value: {@code stripped} or {@code padded}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
