package dev.numbers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * A real server in this JVM, on a free loopback port and a log of its own, configured through
 * the real command line. Its report lines are captured instead of going to stdout.
 */
final class TestServer implements AutoCloseable {

    final Path log;
    final NumberServer server;
    private final ByteArrayOutputStream reports;

    private TestServer(Path log, NumberServer server, ByteArrayOutputStream reports) {
        this.log = log;
        this.server = server;
        this.reports = reports;
    }

    /** Starts a server logging to {@code dir/numbers.log}; {@code args} add or override options. */
    static TestServer start(Path dir, String... args) throws StartupException {
        List<String> all = new ArrayList<>(List.of("--bind", "127.0.0.1", "--port", "0", "--admin-port", "0",
                "--log", dir.resolve("numbers.log").toString()));
        all.addAll(List.of(args));
        Main main = new Main();
        new CommandLine(main).setOverwrittenOptionsAllowed(true).parseArgs(all.toArray(String[]::new));
        ServerConfig config = main.toConfig();
        ByteArrayOutputStream reports = new ByteArrayOutputStream();
        NumberServer server = NumberServer.start(config, new PrintStream(reports, true, StandardCharsets.UTF_8));
        return new TestServer(config.logPath(), server, reports);
    }

    int port() {
        return server.port();
    }

    /** A port nothing listens on now, for a test's command or metrics port. */
    static int freePort() throws IOException {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    TestClient connect() throws IOException {
        return TestClient.connect(port());
    }

    /** The log's lines as they are on disk now. */
    List<String> logLines() throws IOException {
        return Files.readAllLines(log, StandardCharsets.US_ASCII);
    }

    /** The report lines printed so far. */
    List<String> reportLines() {
        return reports.toString(StandardCharsets.UTF_8).lines().toList();
    }

    /** Shuts the server down as a terminate would and returns its exit status. */
    int shutdown() throws InterruptedException {
        server.requestShutdown("test finished");
        if (!server.awaitExit(10_000)) {
            throw new AssertionError("server did not stop within 10 s");
        }
        return server.exitStatus();
    }

    @Override
    public void close() throws InterruptedException {
        shutdown();
    }
}
