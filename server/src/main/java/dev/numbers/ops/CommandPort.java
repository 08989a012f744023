package dev.numbers.ops;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;
import java.util.function.Supplier;

/**
 * The command port (default 9999): a line protocol for asking the server what it is doing.
 * One reply line per command line:
 * <pre>
 *   WHO    the number of connected number clients
 *   WHERE  this run's UUID
 *   WHY    42
 *   STATS  unique_total=.. duplicates_total=.. clients=.. uptime_seconds=.. rate_per_second=..
 *   HELP   the commands
 *   other  ERROR ..., and the connection stays usable
 * </pre>
 * It cannot stop or change the server. It reads only counters (atomics), through one
 * {@code status.get()} per command, so it shares no lock with the number path.
 *
 * <p>All its clients are served by one thread, a {@link SelectorLoop}, so a slow or silent
 * client costs a socket, not a thread, and holds up no one. Its bounds: a line longer than
 * {@link #MAX_LINE_BYTES} or with a byte that is not printable ASCII gets an {@code ERROR} and a
 * close (see {@link CommandSession}); so does a line not whole within {@link #REQUEST_DEADLINE_MS}
 * of its first byte, and a client with no line under way for {@link #IDLE_TIMEOUT_MS}. A client
 * that does not read its replies is no longer read once {@link Connection#MAX_PENDING_OUTPUT_BYTES}
 * of them wait, and is closed once it has taken none for {@link #REQUEST_DEADLINE_MS}. Up to
 * {@link #MAX_CLIENTS} command clients at once (they do not count against the number clients); a
 * new one beyond that closes the client quiet longest, if quiet for {@link #EVICTABLE_AFTER_MS},
 * or else is told to try again later.
 */
public final class CommandPort implements AutoCloseable {

    static final int MAX_LINE_BYTES = 256;
    /** Command clients at once: each costs a socket and a few hundred bytes, no thread. */
    static final int MAX_CLIENTS = 64;
    /** A client with no line under way is closed after this: an operator's forgotten session. */
    static final long IDLE_TIMEOUT_MS = 5 * 60 * 1000;
    /** A line must be whole this long after its first byte: ample for a human typing a command. */
    static final long REQUEST_DEADLINE_MS = 10_000;
    /** When full, a client that has completed no line for this long may be closed for a new one. */
    static final long EVICTABLE_AFTER_MS = 1_000;
    static final SidePortLimits LIMITS =
            new SidePortLimits(MAX_CLIENTS, IDLE_TIMEOUT_MS, REQUEST_DEADLINE_MS, EVICTABLE_AFTER_MS);
    static final String COMMANDS = "WHO WHERE WHY STATS HELP";

    private final SelectorLoop loop;

    private CommandPort(SelectorLoop loop) {
        this.loop = loop;
    }

    /**
     * Opens the command port and starts serving it on a thread from {@code threads}; it reports
     * {@code status}.
     *
     * @throws IOException the address cannot be bound (e.g. a BindException: address in use)
     */
    public static CommandPort open(InetSocketAddress address, Supplier<ServerStatus> status, ThreadFactory threads)
            throws IOException {
        return open(address, status, threads, LIMITS);
    }

    /** As above, with other limits (tests). */
    static CommandPort open(InetSocketAddress address, Supplier<ServerStatus> status, ThreadFactory threads,
                            SidePortLimits limits) throws IOException {
        Protocol protocol = new Protocol() {
            @Override
            public Session open(Connection connection) {
                return new CommandSession(connection, command -> respond(command, status.get()));
            }

            @Override
            public byte[] lastWord(Closing reason) {
                return (lastLine(reason, limits) + "\n").getBytes(StandardCharsets.US_ASCII);
            }
        };
        return new CommandPort(SelectorLoop.open("command port", address, protocol, limits, threads));
    }

    /** Command clients connected now. */
    public int clientCount() {
        return loop.connectionCount();
    }

    public int port() {
        return loop.port();
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
    private static String lastLine(Protocol.Closing reason, SidePortLimits limits) {
        String tooMany = "ERROR too many command clients (" + limits.maxConnections() + "); ";
        return switch (reason) {
            case IDLE -> "ERROR idle for " + SidePortLimits.human(limits.idleTimeoutMillis()) + "; closing";
            case TOO_SLOW -> "ERROR line not complete within " + SidePortLimits.human(limits.requestDeadlineMillis())
                    + "; closing";
            case REFUSED -> tooMany + "try again later";
            case EVICTED -> tooMany + "closing this one, quiet the longest, to make room";
        };
    }

    /** Stops accepting, then closes every command connection; when it returns, nothing is served. */
    @Override
    public void close() {
        loop.close();
    }
}
