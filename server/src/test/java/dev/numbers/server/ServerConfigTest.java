package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ServerConfigTest {

    @ParameterizedTest
    @CsvSource({
        "0, 0s",
        "100000, 0.1ms",
        "250000000, 250ms",
        "1000000000, 1s",
        "1500000000, 1.5s",
        "10000000000, 10s",
        "90000000000, 90s",
        "120000000000, 2m",
        "86400000000000, 24h",
    })
    void showsDurationsAsUsersWriteThem(long nanos, String shown) {
        assertThat(ServerConfig.human(Duration.ofNanos(nanos))).isEqualTo(shown);
    }

    @ParameterizedTest
    @CsvSource({
        "-1, 5, 10000, 0, '--port must be 0 to 65535, got -1'",
        "65536, 5, 10000, 0, '--port must be 0 to 65535, got 65536'",
        "0, 0, 10000, 0, '--max-clients must be 1 to 1024, got 0'",
        "0, 1025, 10000, 0, '--max-clients must be 1 to 1024, got 1025'",
        "0, 5, 99, 0, '--report-interval must be 100ms to 24h, got 99ms'",
        "0, 5, 86400001, 0, '--report-interval must be 100ms to 24h, got 86400.001s'",
        "0, 5, 10000, 99, '--idle-timeout must be 100ms to 24h, got 99ms'",
    })
    void refusesValuesOutOfRangeNamingTheOption(int port, int maxClients, long reportMs, long idleMs, String message) {
        assertThatThrownBy(() -> config(port, maxClients, "numbers.log", reportMs, idleMs, 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @ParameterizedTest
    @CsvSource({"65536, 0", "0, 65536", "-1, 0", "0, -1"})
    void refusesSidePortsOutOfRange(int adminPort, int metricsPort) {
        assertThatThrownBy(() -> config(0, 5, "numbers.log", 10_000, 0, adminPort, metricsPort))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be 0 to 65535");
    }

    @Test
    void refusesAnEmptyLogPath() {
        assertThatThrownBy(() -> config(0, 5, "", 10_000, 0, 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--log must name a file, got an empty path");
    }

    /** A port named twice (or a default one named again) is a clash said by name, not an "address already in use". */
    @Test
    void refusesOnePortForTwoJobs() {
        assertThatThrownBy(() -> config(4000, 5, "numbers.log", 10_000, 0, 9999, 9999))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--admin-port and --metrics-port are both 9999 (--admin-port is 9999 unless given): "
                        + "give each its own port, or --admin-port 0 for no command port");
        assertThatThrownBy(() -> config(9999, 5, "numbers.log", 10_000, 0, 9999, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--port and --admin-port are both 9999");
        assertThatThrownBy(() -> config(4000, 5, "numbers.log", 10_000, 0, 0, 4000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--port and --metrics-port are both 4000 (--port is 4000 unless given): give each its own port");
        assertThat(config(0, 5, "numbers.log", 10_000, 0, 0, 0).port()).as("0 is no port, or any").isZero();
    }

    @Test
    void takesTheEdgesOfEveryRange() {
        ServerConfig low = config(0, 1, "numbers.log", 100, 100, 0, 0);
        ServerConfig high = config(65_535, 1024, "numbers.log", 86_400_000, 86_400_000, 65_534, 65_533);
        assertThat(low.maxClients()).isEqualTo(1);
        assertThat(high.port()).isEqualTo(65_535);
        assertThat(config(0, 5, "numbers.log", 10_000, 0, 0, 0).idleTimeout()).as("off").isZero();
    }

    @Test
    void theSidePortsListenWhereTheNumberPortDoesUnlessToldOtherwise() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        InetAddress any = InetAddress.getByName("0.0.0.0");
        assertThat(withBinds(loopback, null).adminAddress()).isEqualTo(loopback);
        assertThat(withBinds(loopback, any).adminAddress()).isEqualTo(any);
        assertThat(withBinds(null, null).adminAddress()).isNull();
    }

    @Test
    void theEnumsShowTheirOptionValues() {
        assertThat(LogFormat.PADDED).hasToString("padded");
        assertThat(FsyncPolicy.ALWAYS).hasToString("always");
    }

    private static ServerConfig config(int port, int maxClients, String log, long reportMs, long idleMs, int adminPort,
                                       int metricsPort) {
        return new ServerConfig(null, port, maxClients, Path.of(log), LogFormat.STRIPPED, Duration.ofMillis(reportMs),
                FsyncPolicy.INTERVAL, Duration.ofMillis(idleMs), adminPort, null, false, metricsPort, false);
    }

    private static ServerConfig withBinds(InetAddress bind, InetAddress adminBind) {
        return new ServerConfig(bind, 0, 5, Path.of("numbers.log"), LogFormat.STRIPPED, Duration.ofSeconds(10),
                FsyncPolicy.INTERVAL, Duration.ZERO, 0, adminBind, false, 0, false);
    }
}
