package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command port and the metrics endpoint of a real server in this JVM, over loopback. */
class SidePortsTest {

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    /** A command-port client: one line out, one line back. */
    static final class CommandClient implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;
        final OutputStream out;

        CommandClient(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(5_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            out = socket.getOutputStream();
        }

        String ask(String line) throws IOException {
            return askRaw((line + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        String askRaw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void answersEveryCommandOnOneConnection() throws Exception {
        int adminPort = ServerUnderTest.freePort();
        try (InProcessServer server = InProcessServer.start(dir, "--admin-port", Integer.toString(adminPort));
             CommandClient admin = new CommandClient(adminPort)) {
            assertThat(admin.ask("WHO")).isEqualTo("0");
            try (TestClient one = server.connect().send("000000001\n000000002\n000000002\n"); TestClient two = server.connect()) {
                await().until(() -> admin.ask("WHO").equals("2"));
                assertThat(admin.ask("STATS")).matches("unique_total=2 duplicates_total=1 clients=2 uptime_seconds=\\d+ rate_per_second=\\d+");
            }
            await().until(() -> admin.ask("WHO").equals("0"));
            String where = admin.ask("WHERE");
            assertThat(where).isEqualTo(server.server.runId().toString()).matches("[0-9a-f-]{36}");
            assertThat(admin.ask("WHERE")).isEqualTo(where);
            assertThat(admin.ask("WHY")).isEqualTo("42");
            assertThat(admin.ask("HELP")).contains("WHO").contains("WHERE").contains("WHY").contains("STATS").contains("HELP");
            assertThat(admin.askRaw("WHY\r\n".getBytes(StandardCharsets.US_ASCII))).as("telnet's CRLF").isEqualTo("42");
            try (CommandClient oneShot = new CommandClient(adminPort)) { // printf WHY | nc localhost 9999
                oneShot.out.write("WHY".getBytes(StandardCharsets.US_ASCII));
                oneShot.socket.shutdownOutput();
                assertThat(oneShot.in.readLine()).as("a last command without its newline").isEqualTo("42");
            }
        }
    }

    @Test
    void unknownCommandsGetAnErrorAndTheConnectionStaysUsable() throws Exception {
        int adminPort = ServerUnderTest.freePort();
        try (InProcessServer server = InProcessServer.start(dir, "--admin-port", Integer.toString(adminPort));
             CommandClient admin = new CommandClient(adminPort)) {
            for (String unknown : List.of("WHAT", "who", "", "terminate", "WHO extra")) {
                assertThat(admin.ask(unknown)).as(unknown).startsWith("ERROR");
            }
            assertThat(admin.ask("WHY")).isEqualTo("42");
            try (TestClient client = server.connect()) {
                client.send("000000001\n").finish();
                assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).as("terminate on the command port stops nothing").isEmpty();
            }
            assertThat(server.logLines()).containsExactly("1");
        }
    }

    @Test
    void anOverLongOrBinaryLineGetsAnErrorAndAClose() throws Exception {
        int adminPort = ServerUnderTest.freePort();
        try (InProcessServer server = InProcessServer.start(dir, "--admin-port", Integer.toString(adminPort))) {
            try (CommandClient admin = new CommandClient(adminPort)) {
                assertThat(admin.ask("W".repeat(10_000))).startsWith("ERROR line longer than");
                assertThat(admin.in.readLine()).as("closed").isNull();
            }
            try (CommandClient admin = new CommandClient(adminPort)) {
                assertThat(admin.askRaw(new byte[] {'W', 0, (byte) 0xFF, '\n'})).startsWith("ERROR not a text line");
                assertThat(admin.in.readLine()).as("closed").isNull();
            }
            try (CommandClient admin = new CommandClient(adminPort)) {
                assertThat(admin.ask("WHY")).as("the port still serves").isEqualTo("42");
            }
        }
    }

    @Test
    void manyCommandClientsAtOnceLeaveEveryNumberSlotFree() throws Exception {
        int adminPort = ServerUnderTest.freePort();
        try (InProcessServer server = InProcessServer.start(dir, "--admin-port", Integer.toString(adminPort))) {
            List<CommandClient> admins = new ArrayList<>();
            List<TestClient> numberClients = new ArrayList<>();
            try {
                for (int i = 0; i < 10; i++) {
                    admins.add(new CommandClient(adminPort));
                }
                for (int i = 0; i < 5; i++) {
                    numberClients.add(server.connect().send(String.format("%09d\n", i)));
                }
                await().until(() -> server.logLines().size() == 5);
                for (CommandClient admin : admins) {
                    assertThat(admin.ask("WHO")).isEqualTo("5");
                }
            } finally {
                for (CommandClient admin : admins) {
                    admin.close();
                }
                for (TestClient client : numberClients) {
                    client.close();
                }
            }
        }
    }

    @Test
    void portZeroTurnsTheCommandPortOff() throws Exception {
        try (InProcessServer server = InProcessServer.start(dir, "--admin-port", "0")) {
            assertThat(server.server.commandPort()).isEqualTo(-1);
        }
    }

    @Test
    void metricsServeThePrometheusTextFormat() throws Exception {
        int metricsPort = ServerUnderTest.freePort();
        try (InProcessServer server = InProcessServer.start(dir, "--metrics-port", Integer.toString(metricsPort), "--fsync", "always",
                "--max-clients", "1")) {
            try (TestClient client = server.connect()) {
                client.send("000000001\n000000002\n000000002\n");
                await().until(() -> server.logLines().size() == 2);
                client.send("junk\n").awaitClosedByServer(CLOSE_TIMEOUT);
            }
            HttpURLConnection http = get(metricsPort, "/metrics");
            assertThat(http.getResponseCode()).isEqualTo(200);
            assertThat(http.getContentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
            String body = new String(http.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(body.lines()).contains(
                    "numbers_received_total{outcome=\"unique\"} 2.0",
                    "numbers_received_total{outcome=\"duplicate\"} 1.0",
                    "numbers_invalid_connections_total 1.0",
                    "numbers_log_bytes_written_total 4.0",
                    "numbers_log_write_failing 0.0",
                    "# TYPE numbers_clients_connected gauge");
            assertThat(body).containsPattern(Pattern.compile("^numbers_log_fsyncs_total [1-9]\\d*\\.0$", Pattern.MULTILINE));
            assertThat(body.lines().filter(l -> l.startsWith("numbers_log_fsync_seconds_total ")).map(l -> Double.valueOf(l.split(" ")[1])))
                    .singleElement().matches(seconds -> seconds > 0 && seconds < 60, "some fsync time, in seconds");
            assertThat(body.lines().filter(l -> l.startsWith("numbers_")))
                    .allMatch(l -> l.matches("numbers_[a-z_]+(\\{outcome=\"[a-z]+\"\\})? [0-9]+\\.[0-9]+(E-?[0-9]+)?"));
            assertThat(body.lines()).as("the JVM's and the process's metrics too")
                    .anyMatch(l -> l.startsWith("jvm_memory_used_bytes{")).anyMatch(l -> l.startsWith("process_resident_memory_bytes "))
                    .anyMatch(l -> l.startsWith("process_open_fds ")).anyMatch(l -> l.startsWith("jvm_threads_current "));
            assertThat(get(metricsPort, "/").getResponseCode()).isEqualTo(404);
            HttpURLConnection post = get(metricsPort, "/metrics");
            post.setRequestMethod("POST");
            assertThat(post.getResponseCode()).isEqualTo(405);
            assertThat(post.getHeaderField("Allow")).isEqualTo("GET, HEAD");
            HttpURLConnection head = get(metricsPort, "/metrics");
            head.setRequestMethod("HEAD");
            assertThat(head.getResponseCode()).isEqualTo(200);
            assertThat(head.getContentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
            assertThat(head.getInputStream().readAllBytes()).as("no body").isEmpty();
        }
    }

    @Test
    void theCommandPortAndTheMetricsShareOneDaemonThreadThatEndsWithTheServer() throws Exception {
        int adminPort = ServerUnderTest.freePort();
        int metricsPort = ServerUnderTest.freePort();
        try (InProcessServer server = InProcessServer.start(dir, "--admin-port", Integer.toString(adminPort),
                "--metrics-port", Integer.toString(metricsPort));
             CommandClient admin = new CommandClient(adminPort)) {
            assertThat(admin.ask("WHY")).isEqualTo("42");
            assertThat(get(metricsPort, "/metrics").getResponseCode()).isEqualTo(200);
            assertThat(sidePortThreads()).singleElement().matches(Thread::isDaemon, "a daemon");
        }
        await().until(() -> sidePortThreads().isEmpty());
    }

    private static List<Thread> sidePortThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().matches("side-ports-\\d+")).toList();
    }

    private static HttpURLConnection get(int port, String path) throws IOException {
        HttpURLConnection http = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
        http.setConnectTimeout(5_000);
        http.setReadTimeout(5_000);
        return http;
    }
}
