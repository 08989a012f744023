package dev.numbers.ops;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;

/**
 * One command client's side of the line protocol: cuts its bytes into lines of at most
 * {@link CommandPort#MAX_LINE_BYTES} printable ASCII bytes (a {@code \r} before the {@code \n} is
 * dropped), answers each with one line, and ends the connection with an {@code ERROR} line at the
 * first line too long or not text. A last line without its newline is answered at the end of the
 * stream ({@code printf WHO | nc host 9999}).
 *
 * <p>The command port's loop thread only. Allocates a {@code String} per command and per reply:
 * the command port is not the number path.
 */
final class CommandSession implements Protocol.Session {

    private static final int BYTE_MASK = 0xFF;
    private static final int FIRST_PRINTABLE = 0x20;
    private static final int LAST_PRINTABLE = 0x7E;

    private final Connection connection;
    private final UnaryOperator<String> replies;
    private final byte[] line = new byte[CommandPort.MAX_LINE_BYTES];
    private int length;

    /** A session that answers each command with {@code replies} (a reply without its newline). */
    CommandSession(Connection connection, UnaryOperator<String> replies) {
        this.connection = connection;
        this.replies = replies;
    }

    @Override
    public void received(ByteBuffer input, long nowNanos) {
        while (input.hasRemaining() && !connection.finishing()) {
            int b = input.get() & BYTE_MASK;
            if (b == '\n') {
                answer();
                connection.requestCompleted(nowNanos);
            } else if (length == line.length) {
                end("ERROR line longer than " + line.length + " bytes; closing");
            } else if ((b < FIRST_PRINTABLE || b > LAST_PRINTABLE) && b != '\r') {
                end("ERROR not a text line (byte 0x" + Integer.toHexString(b) + "); closing");
            } else {
                connection.requestStarted(nowNanos);
                line[length++] = (byte) b;
            }
        }
    }

    @Override
    public void ended(long nowNanos) {
        if (length > 0) {
            answer();
        }
    }

    private void answer() {
        int end = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
        String command = new String(line, 0, end, StandardCharsets.US_ASCII);
        length = 0;
        connection.send((replies.apply(command) + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private void end(String error) {
        connection.send((error + "\n").getBytes(StandardCharsets.US_ASCII));
        connection.finish();
    }
}
