package dev.numbers.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class DurationConverterTest {

    private final DurationConverter converter = new DurationConverter();

    @ParameterizedTest
    @CsvSource({
        "10, 10000",
        "10s, 10000",
        "1.5, 1500",
        "250ms, 250",
        "2m, 120000",
        "1h, 3600000",
        "PT10S, 10000",
        "pt0.5s, 500",
        "off, 0",
        "0, 0",
        "' 3s ', 3000",
    })
    void readsNumbersWithUnitsIsoDurationsAndOff(String text, long millis) {
        assertThat(converter.convert(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ten", "-1s", "5 days", "1.5.2", "P", "PTxS", "1e3"})
    void rejectsAnythingElseWithAnExample(String text) {
        assertThatThrownBy(() -> converter.convert(text))
                .isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("is not a duration");
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "OFF", " off "})
    void anOptionThatCannotBeOffRefusesOffByName(String text) {
        assertThatThrownBy(() -> new DurationConverter.NeverOff().convert(text))
                .isInstanceOf(TypeConversionException.class)
                .hasMessage("it cannot be off; give a duration (examples: 10s, 250ms, 1.5, 2m)");
    }

    @ParameterizedTest
    @CsvSource({"10s, 10000", "0, 0"})
    void anOptionThatCannotBeOffReadsDurationsAsUsual(String text, long millis) {
        assertThat(new DurationConverter.NeverOff().convert(text)).isEqualTo(Duration.ofMillis(millis));
    }
}
