package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.numbers.server.LineDecoder.Stop;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LineDecoderTest {

    private static final byte[] LF = {'\n'};
    private static final byte[] CRLF = {'\r', '\n'};

    private final LineDecoder decoder = new LineDecoder(LF);

    /** What decoding a whole byte stream gives: the numbers, and why it stopped. */
    record Outcome(List<Integer> numbers, Stop stop) {
    }

    @Test
    void decodesEdgeValues() {
        assertThat(decodeAll(decoder, "000000000\n999999999\n000000001\n100000000\n"))
                .isEqualTo(new Outcome(List.of(0, 999_999_999, 1, 100_000_000), Stop.NEED_MORE));
    }

    @Test
    void decodesEveryDigitInEveryPosition() {
        for (int position = 0; position < 9; position++) {
            for (char digit = '0'; digit <= '9'; digit++) {
                char[] line = "000000000".toCharArray();
                line[position] = digit;
                int expected = (digit - '0') * (int) Math.pow(10, 8 - position);
                assertThat(decodeAll(decoder, new String(line) + "\n").numbers()).containsExactly(expected);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", ":", "a", " ", "+", "-", "\0", "\u00ff"})
    void rejectsNonDigitInEveryPosition(String bad) {
        for (int position = 0; position < 9; position++) {
            String line = "123456789".substring(0, position) + bad + "123456789".substring(position + 1);
            assertThat(decodeAll(decoder, "111111111\n" + line + "\n222222222\n"))
                    .as("bad byte %s at %d", bad, position)
                    .isEqualTo(new Outcome(List.of(111_111_111), Stop.INVALID));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "12345678\n",           // eight digits
        "1234567890\n",         // ten digits
        "\n",                   // empty line
        "123456789\r\n",        // CRLF where LF is native
        " 123456789\n",         // leading space
        "123456789 \n",         // trailing space
        "terminate \n",         // terminate with extra characters
        "Terminate\n",          // other letter case
        "TERMINATE\n",
        "terminat\n",
        "terminatee\n",
        "1234567890123456789\n" // a long run of digits
    })
    void closesOnInvalidLineAfterCountingEarlierOnes(String invalid) {
        assertThat(decodeAll(decoder, "314159265\n" + invalid + "271828182\n"))
                .isEqualTo(new Outcome(List.of(314_159_265), Stop.INVALID));
    }

    @Test
    void recognisesTerminateAndStopsThere() {
        assertThat(decodeAll(decoder, "000000007\nterminate\n000000008\n"))
                .isEqualTo(new Outcome(List.of(7), Stop.TERMINATE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1", "12345678", "123456789", "t", "termin", "terminate"})
    void waitsForMoreOnValidPrefix(String prefix) {
        assertThat(decodeAll(decoder, "000000042\n" + prefix)).isEqualTo(new Outcome(List.of(42), Stop.NEED_MORE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1x", "12345678a", "1234567890", "tx", "terminatex", "x"})
    void rejectsInvalidPrefixAtItsFirstBadByte(String prefix) {
        assertThat(decodeAll(decoder, "000000042\n" + prefix)).isEqualTo(new Outcome(List.of(42), Stop.INVALID));
    }

    @Test
    void handlesWindowsSeparator() {
        LineDecoder crlf = new LineDecoder(CRLF);
        assertThat(crlf.lineBytes()).isEqualTo(11);
        assertThat(decodeAll(crlf, "000000001\r\n123456789\r\nterminate\r\n"))
                .isEqualTo(new Outcome(List.of(1, 123_456_789), Stop.TERMINATE));
        assertThat(decodeAll(crlf, "000000001\r\n123456789\n")).isEqualTo(new Outcome(List.of(1), Stop.INVALID));
        assertThat(decodeAll(crlf, "000000001\r\n123456789\r")).isEqualTo(new Outcome(List.of(1), Stop.NEED_MORE));
        assertThat(decodeAll(crlf, "123456789\r\r")).isEqualTo(new Outcome(List.of(), Stop.INVALID));
    }

    @Test
    void refusesAnOutputArrayThatMayBeTooSmall() {
        ByteBuffer buffer = buffer(bytes("123456789\n123456789\n"));
        assertThatThrownBy(() -> decoder.decodeNumbers(buffer, 0, 20, new int[1]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> decoder.decodeNumbers(buffer, 1, 20, new int[0]))
                .as("19 bytes from 1 may hold one line").isInstanceOf(IllegalArgumentException.class);
        int[] exact = new int[2];
        assertThat(decoder.decodeNumbers(buffer, 0, 20, exact)).as("exactly enough").isEqualTo(2);
        assertThat(exact).containsExactly(123_456_789, 123_456_789);
        assertThat(decoder.decodeNumbers(buffer, 0, 19, new int[1])).as("19 bytes hold one whole line").isEqualTo(1);
    }

    @Test
    void swarDigitCheckAgreesWithBytewiseCheckOnEveryByteValue() {
        for (int value = 0; value < 256; value++) {
            for (int position = 0; position < 8; position++) {
                byte[] eight = "31415926".getBytes(StandardCharsets.US_ASCII);
                eight[position] = (byte) value;
                long word = ByteBuffer.wrap(eight).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                boolean expected = value >= '0' && value <= '9';
                assertThat(LineDecoder.isEightDigits(word)).as("byte %d at %d", value, position).isEqualTo(expected);
            }
        }
    }

    /**
     * Random streams built from valid lines and corruptions of them, decoded in reads of random
     * sizes with the partial line carried over (as a session does), must agree with the plain
     * byte-by-byte {@link ProtocolModel}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r\n"})
    void agreesWithTheNaiveModelOnRandomStreams(String newline) {
        byte[] separator = newline.getBytes(StandardCharsets.US_ASCII);
        LineDecoder decoder = new LineDecoder(separator);
        SplittableRandom random = new SplittableRandom(20261124);
        for (int round = 0; round < 20_000; round++) {
            byte[] stream = ProtocolModel.randomStream(random, random.nextInt(999_999_000), true, separator);
            ProtocolModel.Expectation model = ProtocolModel.expect(stream, separator);
            Stop stop = switch (model.outcome()) {
                case CLEAN_END -> Stop.NEED_MORE;
                case INVALID -> Stop.INVALID;
                case TERMINATE -> Stop.TERMINATE;
            };
            Outcome actual = decodeInRandomReads(decoder, stream, random);
            assertThat(actual).as("stream %s", ProtocolModel.printable(stream)).isEqualTo(new Outcome(model.numbers(), stop));
        }
    }

    /** Decodes {@code stream} as {@link ClientSession} does, in reads of random sizes. */
    static Outcome decodeInRandomReads(LineDecoder decoder, byte[] stream, SplittableRandom random) {
        ByteBuffer in = LineDecoder.allocateBuffer(64);
        int[] numbers = new int[64];
        List<Integer> decoded = new ArrayList<>();
        int offset = 0;
        while (true) {
            int chunk = Math.min(stream.length - offset, random.nextInt(1, 64 - in.position() + 1));
            if (chunk == 0) {
                return new Outcome(decoded, in.position() == 0 ? Stop.NEED_MORE : Stop.INVALID);
            }
            in.put(stream, offset, chunk);
            offset += chunk;
            int length = in.position();
            int count = decoder.decodeNumbers(in, 0, length, numbers);
            for (int i = 0; i < count; i++) {
                decoded.add(numbers[i]);
            }
            Stop stop = decoder.classify(in, count * decoder.lineBytes(), length);
            if (stop != Stop.NEED_MORE) {
                return new Outcome(decoded, stop);
            }
            in.limit(length).position(count * decoder.lineBytes());
            in.compact().limit(64);
        }
    }

    /** Decodes a whole stream in one buffer; NEED_MORE means a valid (possibly empty) tail. */
    static Outcome decodeAll(LineDecoder decoder, String text) {
        byte[] stream = bytes(text);
        ByteBuffer in = buffer(stream);
        int[] numbers = new int[stream.length / decoder.lineBytes() + 1];
        int count = decoder.decodeNumbers(in, 0, stream.length, numbers);
        List<Integer> decoded = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            decoded.add(numbers[i]);
        }
        return new Outcome(decoded, decoder.classify(in, count * decoder.lineBytes(), stream.length));
    }

    static ByteBuffer buffer(byte[] content) {
        ByteBuffer buffer = LineDecoder.allocateBuffer(content.length);
        buffer.put(content);
        return buffer;
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }
}
