package dev.numbers.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} in the Prometheus text format (version 0.0.4), on the JDK's own HTTP
 * server: a handful of counters need no client library. A few daemon threads, so that a slow
 * client cannot hold up a scrape, and a request or response that takes longer than
 * {@link #MAX_EXCHANGE_SECONDS} is cut off. It reads counters only, so it shares no lock with
 * the number path.
 */
public final class MetricsEndpoint implements AutoCloseable {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    static final int THREADS = 4;
    /** The JDK server's documented limits (seconds), set unless the user set them with -D. */
    static final long MAX_EXCHANGE_SECONDS = 10;

    private final HttpServer http;
    private final ExecutorService threads;

    private MetricsEndpoint(HttpServer http, ExecutorService threads) {
        this.http = http;
        this.threads = threads;
    }

    /** Starts serving {@code status} at {@code address}, with {@code threads}. */
    public static MetricsEndpoint open(InetSocketAddress address, Supplier<ServerStatus> status, ThreadFactory threads)
            throws IOException {
        for (String limit : new String[] {"sun.net.httpserver.maxReqTime", "sun.net.httpserver.maxRspTime"}) {
            if (System.getProperty(limit) == null) {
                System.setProperty(limit, Long.toString(MAX_EXCHANGE_SECONDS));
            }
        }
        HttpServer http = HttpServer.create(address, 16);
        http.createContext("/", exchange -> {
            try (exchange) {
                handle(exchange, status.get());
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(THREADS, threads);
        http.setExecutor(pool);
        http.start();
        return new MetricsEndpoint(http, pool);
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private static void handle(HttpExchange exchange, ServerStatus status) throws IOException {
        if (!exchange.getRequestURI().getPath().equals("/metrics")) {
            send(exchange, 404, "not found: try /metrics\n");
        } else if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            send(exchange, 405, "method not allowed\n");
        } else {
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            send(exchange, 200, render(status));
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
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
        metric(text, "numbers_clients_rejected_total", "counter", "Clients closed on arrival because every slot was busy.",
                " " + status.clientsRejected());
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

    @Override
    public void close() {
        http.stop(0);
        threads.shutdownNow();
    }
}
