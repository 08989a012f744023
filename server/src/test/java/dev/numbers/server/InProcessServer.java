package dev.numbers.server;

import dev.numbers.cli.ExitStatus;
import dev.numbers.cli.Main;
import dev.numbers.ops.ServerStatus;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A real server in this JVM, configured through the real command line; its report lines are
 * captured instead of going to stdout. It also shows what the packaged server cannot: its
 * counters, and a log over a test's channel.
 */
final class InProcessServer implements ServerUnderTest {

    final NumberServer server;
    private final Path log;
    private final ByteArrayOutputStream reports;

    private InProcessServer(NumberServer server, Path log, ByteArrayOutputStream reports) {
        this.server = server;
        this.log = log;
        this.reports = reports;
    }

    /** Starts a server with its log in {@code dir}; {@code args} add to or override the defaults. */
    static InProcessServer start(Path dir, String... args) throws StartupException {
        return start(dir, UnaryOperator.identity(), new ByteArrayOutputStream(), args);
    }

    /**
     * As {@link #start(Path, String...)}, with the log written through {@code logChannels}' channel
     * and the reports through {@code reportSink} (which keeps them for {@link #reportLines} only if
     * it is a {@code ByteArrayOutputStream}).
     */
    static InProcessServer start(Path dir, UnaryOperator<FileChannel> logChannels, OutputStream reportSink, String... args)
            throws StartupException {
        List<String> all = new ArrayList<>(List.of("--log", dir.resolve("numbers.log").toString()));
        all.addAll(ServerUnderTest.defaultArgs(args));
        ServerConfig config = Main.parseConfig(all.toArray(String[]::new));
        NumberServer server = new NumberServer(config, new PrintStream(reportSink, true, StandardCharsets.UTF_8), logChannels);
        server.start();
        ByteArrayOutputStream reports = reportSink instanceof ByteArrayOutputStream kept ? kept : new ByteArrayOutputStream();
        return new InProcessServer(server, config.logPath(), reports);
    }

    @Override
    public int port() {
        return server.port();
    }

    @Override
    public Path log() {
        return log;
    }

    @Override
    public List<String> reportLines() {
        return reports.toString(StandardCharsets.UTF_8).lines().toList();
    }

    Stats stats() {
        return server.stats();
    }

    ServerStatus status() {
        return server.status();
    }

    @Override
    public void requestStop() {
        server.requestShutdown("the test");
    }

    @Override
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!server.awaitExit(timeout.toMillis())) {
            throw new AssertionError("server still running after " + timeout);
        }
        return ExitStatus.of(server.outcome()).code();
    }

    @Override
    public void close() {
        server.requestShutdown("the test is over");
        try {
            awaitExit(EXIT_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
