package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The log lines {@link ClientSession#appendLine} makes from the input's digits, stripped or padded. */
class LogFormatTest {

    @ParameterizedTest
    @CsvSource({
        "000000000, 0",
        "000000001, 1",
        "000000010, 10",
        "007007009, 7007009",
        "010000000, 10000000",
        "100000000, 100000000",
        "999999999, 999999999",
        "314159265, 314159265",
    })
    void stripsLeadingZeros(String line, String logged) {
        assertThat(format(LogFormat.STRIPPED, line)).isEqualTo(logged + "\n");
    }

    @ParameterizedTest
    @CsvSource({"000000000", "007007009", "999999999"})
    void paddedKeepsNineDigits(String line) {
        assertThat(format(LogFormat.PADDED, line)).isEqualTo(line + "\n");
    }

    @ParameterizedTest
    @CsvSource({"STRIPPED, '0\n7007009\n123456789\n1\n'", "PADDED, '000000000\n007007009\n123456789\n000000001\n'"})
    void consecutiveLinesDoNotOverwriteEachOther(LogFormat format, String expected) {
        String input = "000000000\n007007009\n123456789\n000000001\n";
        ByteBuffer in = LineDecoderTest.buffer(input.getBytes(StandardCharsets.US_ASCII));
        ByteBuffer out = LineDecoder.allocateBuffer(input.length());
        int pos = 0;
        for (int line = 0; line < 4; line++) {
            pos = ClientSession.appendLine(in, line * 10, 1, out, pos, format == LogFormat.STRIPPED);
        }
        assertThat(text(out, pos)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"007007009, 7007009", "000000000, 0"})
    void usesTheWindowsSeparatorWhenThatIsNative(String line, String logged) {
        ByteBuffer in = LineDecoderTest.buffer((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        ByteBuffer out = LineDecoder.allocateBuffer(16);
        int end = ClientSession.appendLine(in, 0, 2, out, 0, true);
        assertThat(text(out, end)).isEqualTo(logged + "\r\n");
    }

    private static String format(LogFormat format, String line) {
        ByteBuffer in = LineDecoderTest.buffer((line + "\n").getBytes(StandardCharsets.US_ASCII));
        ByteBuffer out = LineDecoder.allocateBuffer(16);
        return text(out, ClientSession.appendLine(in, 0, 1, out, 0, format == LogFormat.STRIPPED));
    }

    private static String text(ByteBuffer out, int end) {
        byte[] bytes = new byte[end];
        out.get(0, bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
