package dev.numbers.server;

import java.util.Locale;

/**
 * When the log is forced from the operating system's cache to the disk, in the manner of redis'
 * {@code appendfsync}. Whatever the policy, every batch reaches the operating system before its
 * client is read again, so a crash of the server process loses nothing; the policy decides what
 * a crash of the machine (power, kernel) can lose. Shutdown always forces the log.
 */
public enum FsyncPolicy {
    /** Never force; the kernel writes back in its own time (on Linux, within about 30 s). */
    NEVER,
    /** Force once a second when anything was written: a machine crash loses at most about 1 s. */
    INTERVAL,
    /** Force each batch before its client is read again: nothing acknowledged is ever lost. */
    ALWAYS;

    /** The option value: {@code never}, {@code interval} or {@code always}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
