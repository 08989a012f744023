package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
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
}
