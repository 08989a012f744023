package dev.numbers.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The metrics endpoint on its own, over loopback, with a fixed status. */
class MetricsEndpointTest {

    private static final int READ_TIMEOUT_MS = 5_000;
    private static final long HOUR_MS = 3_600_000;
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** An endpoint with {@code limits}, without the JVM's metrics: its exposition is the status's alone. */
    private static CommandPortTest.Served open(SidePorts.Limits limits) throws IOException {
        return open(limits, false);
    }

    private static CommandPortTest.Served open() throws IOException {
        return open(SidePorts.METRICS_LIMITS, true);
    }

    private static CommandPortTest.Served open(SidePorts.Limits limits, boolean jvmMetrics) throws IOException {
        SidePorts ports = new SidePorts(CommandPortTest.STATUS);
        int port = ports.bindMetrics(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), limits, jvmMetrics);
        ports.start(runnable -> new Thread(runnable, "side-ports-test"));
        return new CommandPortTest.Served(ports, port);
    }

    /** A connection that has sent {@code request} and is kept open without another byte. */
    private static Socket holding(int port, String request) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(READ_TIMEOUT_MS);
        socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        return socket;
    }

    /** What the server sent on {@code socket}, up to its close (a reset fails the test). */
    private static String response(Socket socket) throws IOException {
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    /** Sends {@code request} on a new connection; returns the whole response. */
    private static String exchange(int port, String request) throws IOException {
        try (Socket socket = holding(port, request)) {
            return response(socket);
        }
    }

    private static HttpURLConnection scrape(int port) throws IOException {
        HttpURLConnection http = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openConnection();
        http.setConnectTimeout(2_000);
        http.setReadTimeout(2_000);
        return http;
    }

    private static void closeAll(List<Socket> sockets) throws IOException {
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    /** What {@link CommandPortTest#STATUS} gives, as the client's text format writes it. */
    private static final String EXPOSITION = """
            # HELP numbers_clients_connected Number clients connected now.
            # TYPE numbers_clients_connected gauge
            numbers_clients_connected 3.0
            # HELP numbers_invalid_connections_total Connections closed for invalid input.
            # TYPE numbers_invalid_connections_total counter
            numbers_invalid_connections_total 2.0
            # HELP numbers_log_bytes_written_total Bytes appended to the log.
            # TYPE numbers_log_bytes_written_total counter
            numbers_log_bytes_written_total 4096.0
            # HELP numbers_log_fsync_seconds_total Time spent forcing the log to disk.
            # TYPE numbers_log_fsync_seconds_total counter
            numbers_log_fsync_seconds_total 0.001
            # HELP numbers_log_fsyncs_total Forces of the log to disk.
            # TYPE numbers_log_fsyncs_total counter
            numbers_log_fsyncs_total 7.0
            # HELP numbers_log_write_failing 1 while a write or fsync of the log fails and is retried.
            # TYPE numbers_log_write_failing gauge
            numbers_log_write_failing 0.0
            # HELP numbers_received_total Valid number lines received, by outcome.
            # TYPE numbers_received_total counter
            numbers_received_total{outcome="duplicate"} 1024.0
            numbers_received_total{outcome="unique"} 567231.0
            """;

    @Test
    void answersGetWithTheExpositionAndHeadWithItsHeadersOnly() throws Exception {
        try (CommandPortTest.Served metrics = open(SidePorts.METRICS_LIMITS)) {
            String body = EXPOSITION;
            int length = body.getBytes(StandardCharsets.UTF_8).length;
            String get = exchange(metrics.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(get).startsWith("HTTP/1.1 200 OK\r\n")
                    .contains("\r\nContent-Type: " + CONTENT_TYPE + "\r\n", "\r\nContent-Length: " + length + "\r\n")
                    .endsWith("\r\n\r\n" + body);
            String head = exchange(metrics.port(), "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n");
            assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").contains("\r\nContent-Length: " + length + "\r\n").endsWith("\r\n\r\n");
        }
    }

    @Test
    void answersOpenMetricsWhenTheAcceptHeaderAsksForIt() throws Exception {
        try (CommandPortTest.Served metrics = open(SidePorts.METRICS_LIMITS)) {
            String get = exchange(metrics.port(), "GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,"
                    + "text/plain;version=0.0.4;q=0.5\r\n\r\n");
            assertThat(get).startsWith("HTTP/1.1 200 OK\r\n")
                    .contains("\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n")
                    .contains("\n# TYPE numbers_received counter\n", "\nnumbers_received_total{outcome=\"unique\"} 567231.0\n",
                            "\n# TYPE numbers_clients_connected gauge\n")
                    .endsWith("\n# EOF\n");
        }
    }

    @Test
    void addsTheJvmsAndTheProcesssOwnMetrics() throws Exception {
        try (CommandPortTest.Served metrics = open()) {
            String get = exchange(metrics.port(), "GET /metrics HTTP/1.1\r\n\r\n");
            assertThat(get).startsWith("HTTP/1.1 200 OK\r\n").contains("\nnumbers_received_total{outcome=\"unique\"} 567231.0\n");
            assertThat(get.lines()).anyMatch(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\"} "))
                    .anyMatch(l -> l.startsWith("jvm_gc_collection_seconds_count{"))
                    .anyMatch(l -> l.startsWith("jvm_threads_current "))
                    .anyMatch(l -> l.startsWith("process_cpu_seconds_total "))
                    .anyMatch(l -> l.startsWith("process_resident_memory_bytes "))
                    .anyMatch(l -> l.startsWith("process_open_fds "));
        }
    }

    @Test
    void answersOtherPathsMethodsAndGarbleWithTheirErrors() throws Exception {
        try (CommandPortTest.Served metrics = open()) {
            assertThat(exchange(metrics.port(), "GET / HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 404 ");
            assertThat(exchange(metrics.port(), "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"))
                    .startsWith("HTTP/1.1 405 ").contains("\r\nAllow: GET, HEAD\r\n");
            assertThat(exchange(metrics.port(), "HELLO\r\n\r\n")).startsWith("HTTP/1.1 400 ");
            assertThat(exchange(metrics.port(), "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        }
    }

    @Test
    void aScrapeIsAnsweredWhileAHundredConnectionsHoldIncompleteRequests() throws Exception {
        try (CommandPortTest.Served metrics = open()) {
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    slow.add(holding(metrics.port(), "GET /metr"));
                }
                await().until(() -> metrics.clientCount() == 100);
                HttpURLConnection http = scrape(metrics.port());
                http.setReadTimeout(8_000); // under the held requests' 10 s deadline: served in turn, it would wait for them
                assertThat(http.getResponseCode()).isEqualTo(200);
                String body = new String(http.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(body).contains("numbers_received_total{outcome=\"unique\"} 567231");
                for (Socket held : slow) {
                    assertThat(held.getInputStream().available()).as("answered while every held request still waits").isZero();
                }
            } finally {
                closeAll(slow);
            }
        }
    }

    @Test
    void headersOf400KilobytesGetAnHttpErrorNotAReset() throws Exception {
        StringBuilder request = new StringBuilder("GET /metrics HTTP/1.1\r\nHost: localhost\r\n");
        for (int i = 0; request.length() < 400 * 1024; i++) {
            request.append("X-Filler-").append(i).append(": ").append("a".repeat(1000)).append("\r\n");
        }
        request.append("\r\n");
        try (CommandPortTest.Served metrics = open()) {
            assertThat(exchange(metrics.port(), request.toString())).startsWith("HTTP/1.1 431 ");
            assertThat(exchange(metrics.port(), "GET /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 ");
        }
    }

    @Test
    void aRequestNotWholeWithinTheDeadlineGets408AndAClose() throws Exception {
        try (CommandPortTest.Served metrics = open(new SidePorts.Limits(SidePorts.METRICS_LIMITS.maxConnections(), HOUR_MS, 500, HOUR_MS));
             Socket slow = holding(metrics.port(), "GET /metr")) {
            assertThat(response(slow)).startsWith("HTTP/1.1 408 ");
        }
    }

    @Test
    void aSilentConnectionGets408AfterTheIdleTimeout() throws Exception {
        try (CommandPortTest.Served metrics = open(new SidePorts.Limits(SidePorts.METRICS_LIMITS.maxConnections(), 500, HOUR_MS, HOUR_MS));
             Socket silent = holding(metrics.port(), "")) {
            assertThat(response(silent)).startsWith("HTTP/1.1 408 ");
        }
    }

    @Test
    void overTheLimitAScrapeGets503() throws Exception {
        try (CommandPortTest.Served metrics = open(new SidePorts.Limits(2, HOUR_MS, HOUR_MS, HOUR_MS));
             Socket one = holding(metrics.port(), "GET /metr"); Socket two = holding(metrics.port(), "GET /metr")) {
            await().until(() -> metrics.clientCount() == 2);
            assertThat(exchange(metrics.port(), "GET /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 503 ");
        }
    }

    @Test
    void aNewScrapeClosesTheOldestIncompleteRequestWhenThePortIsFull() throws Exception {
        try (CommandPortTest.Served metrics = open(new SidePorts.Limits(1, HOUR_MS, HOUR_MS, 0));
             Socket slow = holding(metrics.port(), "GET /metr")) {
            await().until(() -> metrics.clientCount() == 1);
            assertThat(exchange(metrics.port(), "GET /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 ");
            assertThat(response(slow)).startsWith("HTTP/1.1 408 ");
        }
    }

    @Test
    void closeStopsAcceptingAndClosesEveryConnection() throws Exception {
        try (CommandPortTest.Served metrics = open(); Socket slow = holding(metrics.port(), "GET /metr")) {
            int port = metrics.port();
            await().until(() -> metrics.clientCount() == 1);
            metrics.close();
            assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                    .isInstanceOf(ConnectException.class);
            try {
                assertThat(slow.getInputStream().read()).isEqualTo(-1);
            } catch (SocketException reset) {
                assertThat(reset).hasMessageContaining("reset");
            }
            assertThat(metrics.clientCount()).isZero();
        }
    }
}
