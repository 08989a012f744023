package dev.numbers.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A real server for one test, on a free loopback port with a log of its own: in this JVM
 * ({@link InProcessServer}) or the packaged jar as a process of its own ({@link PackagedServer}).
 * Protocol tests are written once against this interface and run against both.
 */
interface ServerUnderTest extends AutoCloseable {

    /** Starts a server for a test: {@code InProcessServer::start} or {@code PackagedServer::start}. */
    @FunctionalInterface
    interface Launcher {
        /**
         * Starts a server with its log in {@code dir} and waits until it listens.
         *
         * @param args options added to {@link #defaultArgs}
         */
        ServerUnderTest start(Path dir, String... args) throws Exception;
    }

    /**
     * Runs each task on a thread of its own, for {@code CompletableFuture.supplyAsync}: the common
     * pool, which JDK 25 uses even with a parallelism of 1 (a 2-core machine), would run a test's
     * concurrent tasks one after another, and one that waits would hold up the next.
     */
    java.util.concurrent.Executor THREAD_PER_TASK = task -> {
        Thread thread = new Thread(task, "test-task");
        thread.setDaemon(true);
        thread.start();
    };

    /** How long a test waits for the server to close a connection it should close. */
    Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    /** How long a test waits for a server to exit. */
    Duration EXIT_TIMEOUT = Duration.ofSeconds(15);
    /** A report line, with its three figures as groups 1 to 3. */
    Pattern REPORT = Pattern.compile("Received (\\d+) unique numbers, (\\d+) duplicates\\. Unique total: (\\d+)");

    /**
     * The options every test server starts with, then the test's own: loopback only, a free
     * port, no command port. (The log is numbers.log in the test's directory: the packaged
     * server's working directory, the in-process server's {@code --log}.)
     */
    static List<String> defaultArgs(String... args) {
        List<String> all = new ArrayList<>(List.of("--bind", "127.0.0.1", "--port", "0", "--admin-port", "0"));
        all.addAll(List.of(args));
        return all;
    }

    /**
     * A loopback port the OS has just handed out and nothing holds, for a test that must name a
     * port before its server starts (a side port, which has no "pick one" value; a port a client
     * connects to before the server listens). Every other test lets its server pick (port 0).
     */
    static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** The port the server listens on for number clients. */
    int port();

    /** The log file. */
    Path log();

    /** The report lines printed to stdout so far. */
    List<String> reportLines();

    /** Asks the server for its clean stop, as SIGTERM does; returns at once. */
    void requestStop() throws IOException, InterruptedException;

    /**
     * Waits for the server to stop and returns its exit status.
     *
     * @throws AssertionError if it is still running after {@code timeout}
     */
    int awaitExit(Duration timeout) throws InterruptedException;

    /** Stops the server if it still runs, and waits for it. */
    @Override
    void close();

    default TestClient connect() throws IOException {
        return TestClient.connect(port());
    }

    /** The log's lines as they are on disk now. */
    default List<String> logLines() throws IOException {
        return Files.readAllLines(log(), StandardCharsets.US_ASCII);
    }
}
