package dev.numbers.ops;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} (and {@code HEAD}) in the Prometheus text format (version 0.0.4): a handful
 * of counters need no client library. Other paths get a 404, other methods a 405 with
 * {@code Allow: GET, HEAD}. It reads counters only, through one {@code status.get()} per scrape,
 * so it shares no lock with the number path.
 *
 * <p>A minimal HTTP/1.1 responder ({@link HttpSession}) on one thread, a {@link SelectorLoop}, so
 * that connections holding incomplete requests cost a socket and a buffer each, and a scrape is
 * answered at once however many of them there are (the JDK's HttpServer read each request on a
 * pool thread: four slow clients stalled every scrape). Its bounds: a connection silent for
 * {@link #IDLE_TIMEOUT_MS}, or whose request head is not whole within {@link #REQUEST_DEADLINE_MS}
 * of its first byte, gets a 408; a head over {@link HttpSession#MAX_HEAD_BYTES} a 431; and every
 * answer closes its connection. Up to {@link #MAX_CONNECTIONS} at once; a new one beyond that
 * closes the connection that has waited longest without a whole request, if that is at least
 * {@link #EVICTABLE_AFTER_MS} (it gets a 408), or else gets a 503 itself.
 */
public final class MetricsEndpoint implements AutoCloseable {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Connections at once: well above the scrapers of one target, each a socket and 8 KiB. */
    static final int MAX_CONNECTIONS = 128;
    /** A connection must start its request within this: a scraper sends it at once. */
    static final long IDLE_TIMEOUT_MS = 10_000;
    /** A request head must be whole this long after its first byte; Prometheus' default scrape timeout. */
    static final long REQUEST_DEADLINE_MS = 10_000;
    /** When full, a connection without a whole request for this long may be closed for a new one. */
    static final long EVICTABLE_AFTER_MS = 1_000;
    static final SidePortLimits LIMITS =
            new SidePortLimits(MAX_CONNECTIONS, IDLE_TIMEOUT_MS, REQUEST_DEADLINE_MS, EVICTABLE_AFTER_MS);

    private final SelectorLoop loop;

    private MetricsEndpoint(SelectorLoop loop) {
        this.loop = loop;
    }

    /**
     * Starts serving {@code status} at {@code address}, on a thread from {@code threads}.
     *
     * @throws IOException the address cannot be bound (e.g. a BindException: address in use)
     */
    public static MetricsEndpoint open(InetSocketAddress address, Supplier<ServerStatus> status, ThreadFactory threads)
            throws IOException {
        return open(address, status, threads, LIMITS);
    }

    /** As above, with other limits (tests). */
    static MetricsEndpoint open(InetSocketAddress address, Supplier<ServerStatus> status, ThreadFactory threads,
                                SidePortLimits limits) throws IOException {
        Protocol protocol = new Protocol() {
            @Override
            public Session open(Connection connection) {
                return new HttpSession(connection, (method, path) -> answer(method, path, status));
            }

            @Override
            public byte[] lastWord(Closing reason) {
                HttpResponse response = switch (reason) {
                    case IDLE, TOO_SLOW, EVICTED -> HttpResponse.text(408, "request not received in time\n");
                    case REFUSED -> HttpResponse.text(503, "too many connections; try again later\n");
                };
                return response.bytes(false);
            }
        };
        return new MetricsEndpoint(SelectorLoop.open("metrics port", address, protocol, limits, threads));
    }

    public int port() {
        return loop.port();
    }

    /** Connections open now (tests). */
    int connectionCount() {
        return loop.connectionCount();
    }

    private static HttpResponse answer(String method, String path, Supplier<ServerStatus> status) {
        if (!path.equals("/metrics")) {
            return HttpResponse.text(404, "not found: try /metrics\n");
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return new HttpResponse(405, HttpResponse.TEXT, "method not allowed\n", "GET, HEAD");
        }
        return new HttpResponse(200, CONTENT_TYPE, render(status.get()), "");
    }

    /** The exposition: HELP, TYPE and value lines per metric. */
    static String render(ServerStatus status) {
        StringBuilder text = new StringBuilder();
        metric(text, "numbers_received_total", "counter", "Valid number lines received, by outcome.",
                "{outcome=\"unique\"} " + status.uniqueTotal(), "{outcome=\"duplicate\"} " + status.duplicateTotal());
        metric(text, "numbers_invalid_connections_total", "counter", "Connections closed for invalid input.",
                " " + status.invalidClosed());
        metric(text, "numbers_clients_connected", "gauge", "Number clients connected now.",
                " " + status.clientsConnected());
        metric(text, "numbers_log_bytes_written_total", "counter", "Bytes appended to the log.",
                " " + status.logBytes());
        metric(text, "numbers_log_fsyncs_total", "counter", "Forces of the log to disk.",
                " " + status.fsyncs());
        metric(text, "numbers_log_fsync_seconds_total", "counter", "Time spent forcing the log to disk.",
                String.format(Locale.ROOT, " %.6f", status.fsyncNanos() / 1e9));
        metric(text, "numbers_log_write_failing", "gauge", "1 while a write or fsync of the log fails and is retried.",
                " " + (status.logFailing() ? 1 : 0));
        return text.toString();
    }

    private static void metric(StringBuilder text, String name, String type, String help, String... samples) {
        text.append("# HELP ").append(name).append(' ').append(help).append('\n');
        text.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        for (String sample : samples) {
            text.append(name).append(sample).append('\n');
        }
    }

    /** Stops accepting, then closes every connection; when it returns, nothing is served. */
    @Override
    public void close() {
        loop.close();
    }
}
