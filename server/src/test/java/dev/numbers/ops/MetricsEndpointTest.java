package dev.numbers.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The metrics endpoint on its own, over loopback, with a fixed status. */
class MetricsEndpointTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private static final int READ_TIMEOUT_MS = 5_000;
    private static final long HOUR_MS = 3_600_000;
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static MetricsEndpoint open(SidePortLimits limits) throws IOException {
        return MetricsEndpoint.open(LOOPBACK, CommandPortTest.STATUS, Executors.defaultThreadFactory(), limits);
    }

    private static MetricsEndpoint open() throws IOException {
        return MetricsEndpoint.open(LOOPBACK, CommandPortTest.STATUS, Executors.defaultThreadFactory());
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

    @Test
    void answersGetWithTheExpositionAndHeadWithItsHeadersOnly() throws Exception {
        try (MetricsEndpoint metrics = open()) {
            String body = MetricsEndpoint.render(CommandPortTest.STATUS.get());
            int length = body.getBytes(StandardCharsets.UTF_8).length;
            String get = exchange(metrics.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(get).startsWith("HTTP/1.1 200 OK\r\n")
                    .contains("\r\nContent-Type: " + CONTENT_TYPE + "\r\n", "\r\nContent-Length: " + length + "\r\n")
                    .endsWith("\r\n\r\n" + body);
            assertThat(body).contains("numbers_received_total{outcome=\"unique\"} 567231\n", "numbers_log_write_failing 0\n");
            String head = exchange(metrics.port(), "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n");
            assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").contains("\r\nContent-Length: " + length + "\r\n").endsWith("\r\n\r\n");
        }
    }

    @Test
    void answersOtherPathsMethodsAndGarbleWithTheirErrors() throws Exception {
        try (MetricsEndpoint metrics = open()) {
            assertThat(exchange(metrics.port(), "GET / HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 404 ");
            assertThat(exchange(metrics.port(), "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"))
                    .startsWith("HTTP/1.1 405 ").contains("\r\nAllow: GET, HEAD\r\n");
            assertThat(exchange(metrics.port(), "HELLO\r\n\r\n")).startsWith("HTTP/1.1 400 ");
            assertThat(exchange(metrics.port(), "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        }
    }

    @Test
    void aScrapeIsAnsweredWithinOneSecondWhileAHundredConnectionsHoldIncompleteRequests() throws Exception {
        try (MetricsEndpoint metrics = open()) {
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    slow.add(holding(metrics.port(), "GET /metr"));
                }
                await().until(() -> metrics.connectionCount() == 100);
                long start = System.nanoTime();
                HttpURLConnection http = scrape(metrics.port());
                assertThat(http.getResponseCode()).isEqualTo(200);
                String body = new String(http.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertThat(body).contains("numbers_received_total{outcome=\"unique\"} 567231");
                assertThat(elapsedMs).as("scrape time in ms").isLessThan(1_000);
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
        try (MetricsEndpoint metrics = open()) {
            assertThat(exchange(metrics.port(), request.toString())).startsWith("HTTP/1.1 431 ");
            assertThat(exchange(metrics.port(), "GET /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 ");
        }
    }

    @Test
    void aRequestNotWholeWithinTheDeadlineGets408AndAClose() throws Exception {
        try (MetricsEndpoint metrics = open(new SidePortLimits(MetricsEndpoint.MAX_CONNECTIONS, HOUR_MS, 500, HOUR_MS));
             Socket slow = holding(metrics.port(), "GET /metr")) {
            assertThat(response(slow)).startsWith("HTTP/1.1 408 ");
        }
    }

    @Test
    void aSilentConnectionGets408AfterTheIdleTimeout() throws Exception {
        try (MetricsEndpoint metrics = open(new SidePortLimits(MetricsEndpoint.MAX_CONNECTIONS, 500, HOUR_MS, HOUR_MS));
             Socket silent = holding(metrics.port(), "")) {
            assertThat(response(silent)).startsWith("HTTP/1.1 408 ");
        }
    }

    @Test
    void overTheLimitAScrapeGets503() throws Exception {
        try (MetricsEndpoint metrics = open(new SidePortLimits(2, HOUR_MS, HOUR_MS, HOUR_MS));
             Socket one = holding(metrics.port(), "GET /metr"); Socket two = holding(metrics.port(), "GET /metr")) {
            await().until(() -> metrics.connectionCount() == 2);
            assertThat(exchange(metrics.port(), "GET /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 503 ");
        }
    }

    @Test
    void aNewScrapeClosesTheOldestIncompleteRequestWhenThePortIsFull() throws Exception {
        try (MetricsEndpoint metrics = open(new SidePortLimits(1, HOUR_MS, HOUR_MS, 0));
             Socket slow = holding(metrics.port(), "GET /metr")) {
            await().until(() -> metrics.connectionCount() == 1);
            assertThat(exchange(metrics.port(), "GET /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 ");
            assertThat(response(slow)).startsWith("HTTP/1.1 408 ");
        }
    }

    @Test
    void closeStopsAcceptingAndClosesEveryConnection() throws Exception {
        try (MetricsEndpoint metrics = open(); Socket slow = holding(metrics.port(), "GET /metr")) {
            int port = metrics.port();
            await().until(() -> metrics.connectionCount() == 1);
            metrics.close();
            assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                    .isInstanceOf(ConnectException.class);
            try {
                assertThat(slow.getInputStream().read()).isEqualTo(-1);
            } catch (SocketException reset) {
                assertThat(reset).hasMessageContaining("reset");
            }
            assertThat(metrics.connectionCount()).isZero();
        }
    }
}
