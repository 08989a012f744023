package dev.numbers.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * {@code numbers-server load} through the real command line, its output captured, against the
 * tests' {@link LoggingServer} (this module shares nothing with the server, its tests included).
 */
class LoadCommandTest {

    /** What bench/run.sh reads from stdout. */
    private static final Pattern BENCH_SUMMARY = Pattern.compile("^load: [0-9]+ numbers in [0-9.]+ s: ([0-9]+) numbers/s.*");
    /** The whole summary of a run with one connection per client, which scripts parse too. */
    private static final Pattern SUMMARY = Pattern.compile("load: \\d+ numbers in \\d+\\.\\d{3} s: \\d+ numbers/s, \\d+\\.\\d MB/s");

    @TempDir
    Path dir;

    private record Result(int status, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        /** stderr without the line every run prints before it sends. */
        List<String> errorLines() {
            return err.lines().filter(l -> !l.startsWith("load: generated ")).toList();
        }
    }

    private static Result load(String... args) {
        CommandLine commandLine = LoadCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int status = commandLine.execute(args);
        return new Result(status, out.toString(), err.toString());
    }

    // A row that stopped failing would run, so each one's other options make that run short and
    // refused (nothing listens on port 1), and a --sink row fails on its port before it listens.
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--clients 0 --count 1 --port 1        | load: --clients must be 1 to 1024, got 0 (see --help)",
        "--clients 1025 --count 1 --port 1     | load: --clients must be 1 to 1024, got 1025 (see --help)",
        "--range 0 --count 1 --port 1          | load: --range must be 1 to 1000000000, got 0 (see --help)",
        "--range 1000000001 --count 1 --port 1 | load: --range must be 1 to 1000000000, got 1000000001 (see --help)",
        "--port 0                              | load: --port must be 1 to 65535 (0 only with --sink), got 0 (see --help)",
        "--port 65536                          | load: --port must be 1 to 65535 (0 only with --sink), got 65536 (see --help)",
        "--duration 0 --count 1 --port 1       | load: --duration must be more than 0 (leave it out to send each payload once) (see --help)",
        "--sink --port 65536                   | load: --port must be 0 to 65535, got 65536 (see --help)",
        "--sink --port 65536 --verify x.log    | load: --sink only listens and reads: --verify is for a load run (see --help)",
        "--sink --port 65536 --count 5         | load: --sink only listens and reads: --count is for a load run (see --help)",
        "--sink --port 65536 --reconnect-every 5 | load: --sink only listens and reads: --reconnect-every is for a load run (see --help)",
        "--reconnect-every 0 --count 10 --port 1  | load: --reconnect-every must be 1 to --count (10), got 0 (see --help)",
        "--reconnect-every -3 --count 10 --port 1 | load: --reconnect-every must be 1 to --count (10), got -3 (see --help)",
        "--reconnect-every 11 --count 10 --port 1 | load: --reconnect-every must be 1 to --count (10), got 11 (see --help)",
        "--reconnect-every 5 --count 10 --duration 1s --port 1 | load: --reconnect-every sends each payload once: leave out --duration (see --help)",
        "--reconnect-every x --count 10 --port 1  | load: Invalid value for option '--reconnect-every': 'x' is not a long (see --help)",
        "--duration soon --count 1 --port 1    | load: Invalid value for option '--duration': 'soon' is not a duration (examples: 30s, 2m) (see --help)",
        "--clients x                           | load: Invalid value for option '--clients': 'x' is not an int (see --help)",
        "--port                                | load: Missing required parameter for option '--port' (PORT) (see --help)",
    })
    void aBadCommandLineIsOneLineNamingTheOptionAndStatusTwo(String args, String line) {
        Result result = load(args.split(" "));

        assertThat(result.status()).isEqualTo(LoadCommand.EXIT_USAGE);
        assertThat(result.errLines()).containsExactly(line);
        assertThat(result.out()).isEmpty();
    }

    @Test
    void aCountOutOfRangeNamesTheOptionAndItsLimit() {
        Result result = load("--count", "0");

        assertThat(result.status()).isEqualTo(LoadCommand.EXIT_USAGE);
        assertThat(result.errLines()).singleElement().asString()
                .matches("load: --count must be 1 to \\d+ \\(a client's payload is one buffer of at most 2 GB\\), got 0 \\(see --help\\)");
    }

    @Test
    void nothingListeningIsOneLineAndStatusOne() throws Exception {
        int port = closedPort();

        Result result = load("--port", Integer.toString(port), "--count", "10", "--verify", dir.resolve("numbers.log").toString());

        assertThat(result.status()).isEqualTo(LoadCommand.EXIT_FAILURE);
        assertThat(result.errorLines()).singleElement().asString()
                .startsWith("load: cannot connect to 127.0.0.1:" + port + ": ").endsWith("; not verifying");
        assertThat(result.out()).isEmpty();
    }

    @Test
    void runsAgainstAServerPrintsTheSummaryScriptsParseTerminatesAndVerifies() throws Exception {
        Path log = dir.resolve("numbers.log");
        try (LoggingServer server = LoggingServer.start(log)) {
            Result result = load("--port", Integer.toString(server.port()), "--clients", "2", "--count", "20000",
                    "--range", "1000000", "--terminate", "--verify", log.toString());

            assertThat(server.awaitTerminate()).isTrue();
            assertThat(server.connections()).isEqualTo(2 + 1);
            assertThat(server.lines()).isEqualTo(2 * 20000);
            assertThat(result.status()).as("stderr: %s", result.err()).isEqualTo(LoadCommand.EXIT_OK);
            assertThat(result.out().lines()).satisfiesExactly(
                    l -> assertThat(l).matches(BENCH_SUMMARY).matches(SUMMARY),
                    l -> assertThat(l).matches("verify: OK, the log holds exactly the \\d+ unique numbers sent, once each"));
        }
    }

    @Test
    void churnWithoutALogReconnectsEveryNNumbersAndAddsTheConnectionsToTheSummaryScriptsParse() throws Exception {
        try (LoggingServer server = LoggingServer.start(dir.resolve("numbers.log"))) {
            Result result = load("--port", Integer.toString(server.port()), "--clients", "2", "--count", "2500",
                    "--reconnect-every", "1000", "--no-progress");

            assertThat(result.status()).as("stderr: %s", result.err()).isEqualTo(LoadCommand.EXIT_OK);
            assertThat(server.connections()).isEqualTo(2 * 3);
            assertThat(server.lines()).isEqualTo(2 * 2500);
            assertThat(result.out().lines()).singleElement().asString()
                    .matches(BENCH_SUMMARY)
                    .matches(SUMMARY.pattern() + ", 6 connections, \\d+ connections/s")
                    .startsWith("load: 5000 numbers in ");
            assertThat(result.errorLines()).isEmpty();
        }
    }

    @Test
    void aMissingLogIsOneLineAndStatusOne() throws Exception {
        Path missing = dir.resolve("elsewhere.log");
        try (LoggingServer server = LoggingServer.start(dir.resolve("numbers.log"))) {
            Result result = load("--port", Integer.toString(server.port()), "--count", "100", "--no-progress",
                    "--terminate", "--verify", missing.toString());

            assertThat(server.awaitTerminate()).isTrue();
            assertThat(result.status()).isEqualTo(LoadCommand.EXIT_FAILURE);
            assertThat(result.errorLines()).containsExactly("load: sent terminate", "load: cannot verify " + missing + ": no such file");
            assertThat(result.out().lines()).singleElement().asString().matches(BENCH_SUMMARY);
        }
    }

    @Test
    void helpSaysWhenToTurnProgressOffAndShowsEveryDefaultTheSameWay() {
        Result result = load("--help");

        assertThat(result.status()).isEqualTo(LoadCommand.EXIT_OK);
        String help = result.out();
        assertThat(help).startsWith("Usage: numbers-server load [-h] ");
        assertThat(help).contains("--no-progress").contains("scripts and CI logs");
        assertThat(help).contains("Ctrl+C or SIGTERM stops it");
        assertThat(help).contains("closing none for 10 s, fail the run");
        assertThat(help.lines().map(String::strip)).contains("Default: 1000000");
        assertThat(help).doesNotContain("(default:").doesNotContain("<");
    }

    @ParameterizedTest
    @CsvSource({"30s, PT30S", "2m, PT2M", "250ms, PT0.25S", "1.5, PT1.5S", "1 h, PT1H"})
    void durationsAreANumberAndAUnitSecondsIfNone(String text, Duration duration) {
        assertThat(new LoadCommand.DurationConverter().convert(text)).isEqualTo(duration);
    }

    /** A port nothing listens on: the OS gave it out a moment ago and it has been closed. */
    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
