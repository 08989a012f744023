package dev.numbers.ops;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The command port's line protocol, one connection's: a command per line, one reply line each.
 * <pre>
 *   WHO    the number of connected number clients
 *   WHERE  this run's UUID
 *   WHY    42
 *   STATS  unique_total=.. duplicates_total=.. clients=.. uptime_seconds=.. rate_per_second=..
 *   HELP   the commands
 *   other  ERROR ..., and the connection stays usable
 * </pre>
 * A line is at most {@link #MAX_LINE_BYTES} printable ASCII bytes; a {@code \r} before its
 * {@code \n} is dropped (telnet), and a last line without its newline is answered at the end of
 * the stream ({@code printf WHO | nc host 9999}). A line too long or not text gets an
 * {@code ERROR} line and the connection is finished. It cannot stop or change the server: each
 * command reads one {@code status.get()}, so it shares no lock with the number path.
 *
 * <p>The side ports' loop thread only. Allocates a {@code String} per command and per reply.
 */
final class CommandLines extends ByteToMessageDecoder {

    static final int MAX_LINE_BYTES = 256;
    static final String COMMANDS = "WHO WHERE WHY STATS HELP";
    private static final int FIRST_PRINTABLE = 0x20;
    private static final int LAST_PRINTABLE = 0x7E;

    private final Guard guard;
    private final Supplier<ServerStatus> status;

    CommandLines(Guard guard, Supplier<ServerStatus> status) {
        this.guard = guard;
        this.status = status;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int end;
        while ((end = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n')) >= 0) {
            ByteBuf line = in.readSlice(end - in.readerIndex());
            in.skipBytes(1);
            if (!answer(ctx, line)) {
                return;
            }
            guard.completed();
        }
        if (in.readableBytes() > MAX_LINE_BYTES) {
            fail(ctx, "ERROR line longer than " + MAX_LINE_BYTES + " bytes; closing");
        }
    }

    /** The end of the stream: a last line cut short is still answered, then the connection ends. */
    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        decode(ctx, in, out);
        if (in.isReadable()) {
            answer(ctx, in.readSlice(in.readableBytes()));
        }
        guard.finish(null);
    }

    /** Answers one line (without its {@code \n}); false if the line ended the connection. */
    private boolean answer(ChannelHandlerContext ctx, ByteBuf line) {
        int length = line.readableBytes();
        if (length > 0 && line.getByte(line.writerIndex() - 1) == '\r') {
            length--;
        }
        if (length > MAX_LINE_BYTES) {
            return fail(ctx, "ERROR line longer than " + MAX_LINE_BYTES + " bytes; closing");
        }
        for (int i = 0; i < length; i++) {
            int b = line.getByte(line.readerIndex() + i) & 0xFF;
            if (b < FIRST_PRINTABLE || b > LAST_PRINTABLE) {
                return fail(ctx, "ERROR not a text line (byte 0x" + Integer.toHexString(b) + "); closing");
            }
        }
        String command = line.toString(line.readerIndex(), length, StandardCharsets.US_ASCII);
        ctx.writeAndFlush(SidePorts.ascii(respond(command, status.get()) + "\n"));
        return true;
    }

    private boolean fail(ChannelHandlerContext ctx, String error) {
        guard.finish(SidePorts.ascii(error + "\n"));
        return false;
    }

    /** The reply to one command line, without its newline. */
    static String respond(String command, ServerStatus now) {
        return switch (command) {
            case "WHO" -> Integer.toString(now.clientsConnected());
            case "WHERE" -> now.runId();
            case "WHY" -> "42";
            case "STATS" -> String.format(Locale.ROOT,
                    "unique_total=%d duplicates_total=%d clients=%d uptime_seconds=%d rate_per_second=%d",
                    now.uniqueTotal(), now.duplicateTotal(), now.clientsConnected(), now.uptimeSeconds(),
                    now.ratePerSecond());
            case "HELP" -> "commands: WHO (connected clients), WHERE (run id), WHY, STATS (counters), HELP";
            default -> "ERROR unknown command '" + command + "'; commands: " + COMMANDS;
        };
    }

    /** The line a client gets before the port closes it for {@code reason}. */
    static Object lastWord(SidePorts.Closing reason, SidePorts.Limits limits) {
        String tooMany = "ERROR too many command clients (" + limits.maxConnections() + "); ";
        return SidePorts.ascii(switch (reason) {
            case IDLE -> "ERROR idle for " + seconds(limits.idleMillis()) + "; closing";
            case TOO_SLOW -> "ERROR line not complete within " + seconds(limits.deadlineMillis()) + "; closing";
            case REFUSED -> tooMany + "try again later";
            case EVICTED -> tooMany + "closing this one, quiet the longest, to make room";
        } + "\n");
    }

    /** A limit as the lines name it: {@code 300 s}, or {@code 500 ms} when not whole seconds (tests). */
    private static String seconds(long millis) {
        return millis % 1_000 == 0 ? millis / 1_000 + " s" : millis + " ms";
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        guard.exceptionCaught(ctx, cause);
    }
}
