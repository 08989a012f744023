package dev.numbers.server;

import java.math.BigDecimal;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Everything the server can be told at startup, checked against the ranges below. Built by the
 * command line ({@code dev.numbers.cli}); the options table in the README says why each default.
 * An out-of-range value is an {@link IllegalArgumentException} whose message names the option.
 *
 * @param bindAddress    address to listen on; null for all interfaces
 * @param port           TCP port for number clients; 0 picks a free port (shown at startup)
 * @param maxClients     number clients read at once; more wait in the kernel's accept queue
 * @param logPath        the log of unique numbers, truncated at startup
 * @param logFormat      stripped (no leading zeros) or padded (nine digits)
 * @param reportInterval time between two report lines on stdout
 * @param fsync          when the log is forced to disk
 * @param idleTimeout    a client that sends nothing for this long is disconnected; zero: never
 * @param adminPort      the command port; 0: none
 * @param adminBind      address of the command port and the metrics; null: as {@code bindAddress}
 * @param adminRequired  the command port was asked for by name: failing to open it is fatal
 *                       (the default port in use is only a warning)
 * @param metricsPort    the Prometheus endpoint's port; 0: none
 * @param quiet          diagnostics: warnings and errors only
 */
public record ServerConfig(
        InetAddress bindAddress,
        int port,
        int maxClients,
        Path logPath,
        LogFormat logFormat,
        Duration reportInterval,
        FsyncPolicy fsync,
        Duration idleTimeout,
        int adminPort,
        InetAddress adminBind,
        boolean adminRequired,
        int metricsPort,
        boolean quiet) {

    public static final int DEFAULT_PORT = 4000;
    public static final int DEFAULT_MAX_CLIENTS = 5;
    /**
     * The most clients: each slot is a thread and {@link SessionBuffers} (0.5 MB of direct memory
     * and 0.13 MB of heap); more than the spec's 5 only help many slow senders. The JVM's memory
     * is checked at startup too (see {@code NumberServer}).
     */
    public static final int MAX_MAX_CLIENTS = 1024;
    public static final String DEFAULT_LOG = "numbers.log";
    public static final int DEFAULT_ADMIN_PORT = 9999;
    public static final Duration MIN_REPORT_INTERVAL = Duration.ofMillis(100);
    public static final Duration MIN_IDLE_TIMEOUT = Duration.ofMillis(100);
    /** The longest report interval or idle timeout: a day. */
    public static final Duration MAX_DURATION = Duration.ofDays(1);

    public ServerConfig {
        checkPort("--port", port);
        checkPort("--admin-port", adminPort);
        checkPort("--metrics-port", metricsPort);
        if (maxClients < 1 || maxClients > MAX_MAX_CLIENTS) {
            throw new IllegalArgumentException("--max-clients must be 1 to " + MAX_MAX_CLIENTS + ", got " + maxClients);
        }
        if (logPath.toString().isEmpty()) {
            throw new IllegalArgumentException("--log must name a file, got an empty path");
        }
        checkDistinct("--port", port, "--admin-port", adminPort);
        checkDistinct("--port", port, "--metrics-port", metricsPort);
        checkDistinct("--admin-port", adminPort, "--metrics-port", metricsPort);
        checkRange("--report-interval", reportInterval, MIN_REPORT_INTERVAL);
        if (!idleTimeout.isZero()) {
            checkRange("--idle-timeout", idleTimeout, MIN_IDLE_TIMEOUT);
        }
    }

    private static void checkPort(String option, int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(option + " must be 0 to 65535, got " + port);
        }
    }

    /** Two ports must differ (0, none or any, aside), a default one too: a clash is named, not met as "address in use". */
    private static void checkDistinct(String option, int port, String otherOption, int other) {
        if (port != 0 && port == other) {
            boolean commandPort = option.equals("--admin-port") || otherOption.equals("--admin-port");
            int byDefault = option.equals("--port") ? DEFAULT_PORT : DEFAULT_ADMIN_PORT;
            throw new IllegalArgumentException(option + " and " + otherOption + " are both " + port
                    + (port == byDefault ? " (" + option + " is " + byDefault + " unless given)" : "")
                    + ": give each its own port" + (commandPort ? ", or --admin-port 0 for no command port" : ""));
        }
    }

    private static void checkRange(String option, Duration value, Duration min) {
        if (value.compareTo(min) < 0 || value.compareTo(MAX_DURATION) > 0) {
            throw new IllegalArgumentException(option + " must be " + human(min) + " to " + human(MAX_DURATION)
                    + ", got " + human(value));
        }
    }

    /** Where the command port and the metrics listen: {@code adminBind}, else {@code bindAddress}. */
    public InetAddress adminAddress() {
        return adminBind != null ? adminBind : bindAddress;
    }

    /**
     * A duration as a user writes one, never ISO-8601: whole hours or minutes as {@code 2h},
     * {@code 5m}; from a second up in seconds, {@code 10s}, {@code 1.5s}, {@code 90s}; below, in
     * milliseconds, {@code 250ms}, {@code 0.1ms}.
     */
    public static String human(Duration duration) {
        long nanos = duration.toNanos();
        if (nanos == 0) {
            return "0s";
        }
        if (nanos % TimeUnit.HOURS.toNanos(1) == 0) {
            return TimeUnit.NANOSECONDS.toHours(nanos) + "h";
        }
        if (nanos % TimeUnit.MINUTES.toNanos(1) == 0) {
            return TimeUnit.NANOSECONDS.toMinutes(nanos) + "m";
        }
        boolean seconds = nanos >= TimeUnit.SECONDS.toNanos(1);
        BigDecimal value = BigDecimal.valueOf(nanos, seconds ? 9 : 6).stripTrailingZeros();
        return value.toPlainString() + (seconds ? "s" : "ms");
    }
}
