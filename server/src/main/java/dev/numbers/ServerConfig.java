package dev.numbers;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything the server can be told at startup. Built by {@link Main} from the command line; the
 * defaults and their reasons are in the README's options table.
 *
 * @param bindAddress    address to listen on; null for all interfaces
 * @param port           TCP port for number clients; 0 picks a free port (logged at startup)
 * @param maxClients     number clients connected at once; one more is closed on arrival
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
record ServerConfig(
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

    static final int DEFAULT_PORT = 4000;
    static final int DEFAULT_MAX_CLIENTS = 5;
    static final String DEFAULT_LOG = "numbers.log";
    static final int DEFAULT_ADMIN_PORT = 9999;

    ServerConfig {
        checkPort("port", port);
        checkPort("admin port", adminPort);
        checkPort("metrics port", metricsPort);
        if (maxClients < 1) {
            throw new IllegalArgumentException("max clients must be at least 1, got " + maxClients);
        }
        if (reportInterval.isNegative() || reportInterval.isZero()) {
            throw new IllegalArgumentException("report interval must be positive, got " + reportInterval);
        }
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idle timeout must not be negative, got " + idleTimeout);
        }
        checkFitsNanos("report interval", reportInterval);
        checkFitsNanos("idle timeout", idleTimeout);
    }

    /** The timers count in nanoseconds: about 292 years at most. */
    private static void checkFitsNanos(String what, Duration duration) {
        try {
            duration.toNanos();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + " is too long: " + duration);
        }
    }

    private static void checkPort(String what, int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(what + " must be 0 to 65535, got " + port);
        }
    }

    /** Where the command port and the metrics listen: {@code adminBind}, else {@code bindAddress}. */
    InetAddress adminAddress() {
        return adminBind != null ? adminBind : bindAddress;
    }
}
