package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.numbers.server.ProtocolModel.Expectation;
import dev.numbers.server.ProtocolModel.Outcome;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Property test of the real connection handling ({@link ClientSession}) against
 * {@link ProtocolModel}: random byte streams, delivered to the session in random pieces, one piece
 * per read, exactly. For every stream: the log gains exactly the model's numbers, duplicates are
 * counted, terminate is requested when the model says so, and the session stops reading at the
 * read that delivered the first byte that cannot be valid (or the end of terminate) and never
 * reads again. A failure names the seed that reproduces it.
 */
class ClientSessionPropertyTest {

    private static final long SEED = 20261124L;
    private static final int CASES = 4_000;

    @TempDir
    Path dir;

    private NumberLog log;

    /** For both separators the server knows: {@code \n} (Linux, macOS) and {@code \r\n} (Windows). */
    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r\n"})
    void sessionAgreesWithTheModelWhereverTheStreamIsCut(String newline) throws IOException {
        byte[] separator = newline.getBytes(StandardCharsets.US_ASCII);
        SeenNumbers seen = new SeenNumbers();
        log = NumberLog.open(dir.resolve("numbers.log"), separator, FsyncPolicy.NEVER, UnaryOperator.identity());
        try (NumberLog closing = log) {
            agreesWithTheModel(separator, seen);
        }
    }

    private void agreesWithTheModel(byte[] separator, SeenNumbers seen) throws IOException {
        List<String> terminations = new ArrayList<>();
        Stats stats = new Stats();
        List<ClientSession> freed = new ArrayList<>();
        ClientSession.Shared shared = new ClientSession.Shared(seen, log, LogFormat.PADDED, stats, new BatchesInFlight(1));
        ClientSession session = new ClientSession(0, new LineDecoder(separator), shared, new SessionBuffers(separator.length + 9),
                new ClientSession.Events() {
                    @Override
                    public void terminate(String reason) {
                        terminations.add(reason);
                    }

                    @Override
                    public void ended(ClientSession ended) {
                        freed.add(ended);
                    }
                });
        long logSize = 0;
        for (int c = 0; c < CASES; c++) {
            long caseSeed = SEED + c;
            SplittableRandom random = new SplittableRandom(caseSeed);
            byte[] stream = ProtocolModel.randomStream(random, c * 1000, true, separator);
            List<byte[]> pieces = ProtocolModel.randomPieces(random, stream, random.nextBoolean() ? 7 : 300);
            Expectation expected = ProtocolModel.expect(stream, separator);
            String what = "case seed " + caseSeed + ", stream \"" + ProtocolModel.printable(stream) + "\", "
                    + pieces.size() + " pieces";

            PiecewiseChannel channel = new PiecewiseChannel(pieces);
            long uniqueBefore = stats.uniqueTotal();
            long duplicatesBefore = stats.duplicateTotal();
            long invalidBefore = stats.invalidClosed();
            terminations.clear();
            freed.clear();
            session.attach(channel, "case-" + c);
            session.serve();
            assertThat(freed).as(what + ": the slot is freed once").containsExactly(session);

            Set<Integer> distinct = new LinkedHashSet<>(expected.numbers());
            String added = readFrom(logSize);
            logSize += added.length();
            assertThat(added.lines().map(Integer::parseInt).collect(Collectors.toSet())).as(what).isEqualTo(distinct);
            assertThat(added.lines().count()).as(what).isEqualTo(distinct.size());
            assertThat(stats.uniqueTotal() - uniqueBefore).as(what).isEqualTo(distinct.size());
            assertThat(stats.duplicateTotal() - duplicatesBefore).as(what).isEqualTo(expected.numbers().size() - distinct.size());
            assertThat(channel.isOpen()).as(what).isFalse();
            assertThat(channel.readsAfterEnd).as(what).isZero();
            assertThat(terminations).as(what).hasSize(expected.outcome() == Outcome.TERMINATE ? 1 : 0);
            assertThat(stats.invalidClosed() - invalidBefore).as(what).isEqualTo(expected.outcome() == Outcome.INVALID ? 1 : 0);
            if (expected.outcome() == Outcome.CLEAN_END || expected.stopAt() == stream.length && expected.outcome() == Outcome.INVALID) {
                assertThat(channel.sawEndOfStream).as(what + ": reads to the end").isTrue();
            } else {
                int lastByteNeeded = expected.outcome() == Outcome.TERMINATE ? expected.stopAt() - 1 : expected.stopAt();
                assertThat(channel.delivered).as(what + ": stops at the piece holding byte " + lastByteNeeded)
                        .isEqualTo(channel.endOfPieceHolding(lastByteNeeded));
            }
        }
    }

    private String readFrom(long offset) throws IOException {
        byte[] all = Files.readAllBytes(log.path());
        return new String(all, (int) offset, all.length - (int) offset, StandardCharsets.US_ASCII);
    }

    /** A channel that hands out the given pieces, one per read, then end of stream. */
    static final class PiecewiseChannel implements ByteChannel {
        private final List<byte[]> pieces;
        private int next;
        private boolean open = true;
        int delivered;
        boolean sawEndOfStream;
        int readsAfterEnd;

        PiecewiseChannel(List<byte[]> pieces) {
            this.pieces = pieces;
        }

        int endOfPieceHolding(int byteIndex) {
            int end = 0;
            for (byte[] piece : pieces) {
                end += piece.length;
                if (byteIndex < end) {
                    return end;
                }
            }
            throw new IllegalArgumentException("byte " + byteIndex + " is past the stream");
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (!open) {
                throw new ClosedChannelException();
            }
            if (sawEndOfStream) {
                readsAfterEnd++;
            }
            if (next == pieces.size()) {
                sawEndOfStream = true;
                return -1;
            }
            byte[] piece = pieces.get(next++);
            if (piece.length > dst.remaining()) {
                throw new AssertionError("a piece larger than the session's free buffer: " + piece.length);
            }
            dst.put(piece);
            delivered += piece.length;
            return piece.length;
        }

        @Override
        public int write(ByteBuffer src) {
            throw new AssertionError("the server wrote to a number client");
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }
}
