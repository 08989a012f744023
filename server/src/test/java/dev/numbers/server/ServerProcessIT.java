package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import dev.numbers.cli.Main;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The packaged server, started by the README's launcher, as a separate process. */
class ServerProcessIT {

    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    private static final Pattern REPORT = Pattern.compile("Received \\d+ unique numbers, \\d+ duplicates\\. Unique total: \\d+");

    @TempDir
    Path dir;

    @Test
    void terminateExitsZeroWithEveryNumberInTheLog() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            try (TestClient client = server.connect()) {
                client.send("000000001\n000000002\n000000002\n");
                await().until(() -> server.logLines().size() == 2);
            }
            long sent;
            try (TestClient client = server.connect()) {
                client.send("000000003\nterminate\n");
                sent = System.nanoTime();
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            System.err.printf("terminate to exit (idle server, measured by the test): %d ms%n", (System.nanoTime() - sent) / 1_000_000);
            assertThat(server.logLines()).containsExactlyInAnyOrder("1", "2", "3");
            assertThat(server.stderr).anyMatch(l -> l.contains("shutting down: terminate from"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT"})
    void signalsRunTheSameCleanShutdown(String signal) throws Exception {
        try (PackagedServer server = PackagedServer.start(dir); TestClient client = server.connect()) {
            client.send("000000011\n000000012\n");
            await().until(() -> server.logLines().size() == 2);
            server.signal(signal);
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(client.awaitClosedByServer(CLOSE_TIMEOUT)).isEmpty();
            assertThat(server.logLines()).containsExactlyInAnyOrder("11", "12");
            assertThat(server.stderr).anyMatch(l -> l.endsWith("INFO  shutting down: SIG" + signal));
        }
    }

    @Test
    void stdoutCarriesOnlyReportLines() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--report-interval", "100ms", "--max-clients", "1")) {
            try (TestClient client = server.connect()) {
                client.send("000000001\n");
                await().until(() -> server.logLines().size() == 1);
                try (TestClient rejected = server.connect()) {
                    rejected.awaitClosedByServer(CLOSE_TIMEOUT);
                }
                client.send("bad line\n").awaitClosedByServer(CLOSE_TIMEOUT);
            }
            await().until(() -> server.stdout.size() >= 3);
            try (TestClient client = server.connect()) {
                client.send("terminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            assertThat(server.stdout).isNotEmpty().allMatch(l -> REPORT.matcher(l).matches());
            assertThat(server.stdout).anyMatch(l -> l.equals("Received 1 unique numbers, 0 duplicates. Unique total: 1"));
        }
    }

    /**
     * A client that sent its numbers, half-closed, and saw the server close has had them
     * consumed: a kill -9 right after must find every one in the log, whole, once.
     */
    @Test
    void killNineLosesNothingTheServerConsumed() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir)) {
            Set<String> expected = new HashSet<>();
            for (int c = 0; c < 5; c++) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < 20_000; i++) {
                    int n = (i * 7_919 + c * 104_729) % 1_000_000_000;
                    text.append(String.format("%09d\n", n));
                    expected.add(Integer.toString(n));
                }
                try (TestClient client = server.connect()) {
                    client.send(text.toString()).finish().awaitClosedByServer(CLOSE_TIMEOUT);
                }
            }
            server.signal("KILL");
            server.awaitExit(EXIT_TIMEOUT);
            String log = Files.readString(server.log());
            assertThat(log).endsWith("\n");
            List<String> lines = log.lines().toList();
            assertThat(lines).doesNotHaveDuplicates();
            assertThat(new HashSet<>(lines)).isEqualTo(expected);
        }
    }

    @Test
    void portInUseIsOneLineNamingThePort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            try (PackagedServer server = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", Integer.toString(port))) {
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
                assertThat(errorLines(server)).singleElement().asString()
                        .contains("port " + port).contains("address already in use");
            }
        }
    }

    @Test
    void aSecondServerOnTheSamePortNamesThePortAndLeavesTheFirstAlone() throws Exception {
        int port = SidePortsTest.freePort();
        try (PackagedServer first = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", Integer.toString(port), "--admin-port", "0")) {
            first.awaitStarted();
            try (TestClient client = TestClient.connect(port)) {
                client.send("000000001\n");
                await().until(() -> first.logLines().size() == 1);
                try (PackagedServer second = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", Integer.toString(port), "--admin-port", "0")) {
                    assertThat(second.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
                    assertThat(errorLines(second)).singleElement().asString()
                            .isEqualTo("numbers-server: cannot listen on port " + port + " (127.0.0.1): address already in use");
                }
            }
            assertThat(first.logLines()).containsExactly("1");
        }
    }

    @Test
    void unwritableLogIsOneLineNamingIt() throws Exception {
        Path notADirectory = dir.resolve("file");
        Files.writeString(notADirectory, "x");
        Path log = notADirectory.resolve("numbers.log");
        try (PackagedServer server = PackagedServer.launch(dir, "--port", "0", "--log", log.toString())) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(errorLines(server)).singleElement().asString().contains("cannot create log file " + log);
        }
    }

    @Test
    void aSecondServerOnTheSameLogDoesNotStartAndLeavesTheLogAlone() throws Exception {
        try (PackagedServer first = PackagedServer.start(dir)) {
            try (TestClient client = first.connect()) {
                client.send("000000001\n");
                await().until(() -> first.logLines().size() == 1);
                try (PackagedServer second = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", "0", "--admin-port", "0")) {
                    assertThat(second.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
                    assertThat(errorLines(second)).singleElement().asString().isEqualTo(
                            "numbers-server: cannot create log file numbers.log: in use: locked by another process (another numbers-server?)");
                }
                client.send("000000002\n").finish().awaitClosedByServer(CLOSE_TIMEOUT);
            }
            assertThat(Files.readString(first.log())).isIn("1\n2\n", "2\n1\n");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--no-such-option", "--port=seventy", "--max-clients=0", "--log-format=fancy", "--report-interval=soon",
        "--report-interval=PT3000000H", "--idle-timeout=-5s", "--fsync=sometimes", "--admin-port=70000"})
    void badOptionIsOneLineAndExitStatusTwo(String option) throws Exception {
        try (PackagedServer server = PackagedServer.launch(dir, option)) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(2);
            assertThat(errorLines(server)).singleElement().asString().startsWith("numbers-server: ");
            assertThat(server.stdout).isEmpty();
        }
    }

    @Test
    void helpListsEveryOptionWithItsDefault() throws Exception {
        try (PackagedServer server = PackagedServer.launch(dir, "--help")) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            String help = String.join("\n", server.stdout);
            for (OptionSpec option : new CommandLine(new Main()).getCommandSpec().options()) {
                assertThat(help).contains(option.longestName());
                if (option.defaultValue() != null) {
                    assertThat(help).contains("Default: " + option.defaultValue());
                }
            }
        }
    }

    @Test
    void versionPrintsTheProjectVersion() throws Exception {
        try (PackagedServer server = PackagedServer.launch(dir, "--version")) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(server.stdout).singleElement().asString().matches("numbers-server \\d+\\.\\d+\\.\\d+.*");
        }
    }

    @Test
    void runsWithNoArgumentsOnPort4000() throws Exception {
        assumeThat(portIsFree(4000)).as("port 4000 is free on this machine").isTrue();
        try (PackagedServer server = PackagedServer.launch(dir)) {
            server.awaitStarted();
            assertThat(server.port()).isEqualTo(4000);
            try (TestClient client = TestClient.connect(4000)) {
                client.send("000000400\nterminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            assertThat(Files.readAllLines(dir.resolve("numbers.log"))).containsExactly("400");
        }
    }

    @Test
    void logsEveryEventThatMattersOnStderr() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--max-clients", "1")) {
            try (TestClient client = server.connect()) {
                client.send("000000001\n");
                await().until(() -> server.logLines().size() == 1);
                try (TestClient rejected = server.connect()) {
                    rejected.awaitClosedByServer(CLOSE_TIMEOUT);
                }
                client.finish().awaitClosedByServer(CLOSE_TIMEOUT);
            }
            try (TestClient client = server.connect()) {
                client.send("garbage\n").awaitClosedByServer(CLOSE_TIMEOUT);
            }
            try (TestClient client = server.connect()) {
                client.send("terminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            List<String> lines = errorLines(server);
            assertThat(lines).allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (INFO |WARN |ERROR) .+"));
            assertThat(lines.get(0)).contains("INFO  started port=" + server.port())
                    .contains("log=" + dir.resolve("numbers.log").toRealPath())
                    .contains("max-clients=1").contains("log-format=stripped").contains("fsync=interval")
                    .contains("idle-timeout=off").contains("admin-port=off").contains("metrics-port=off").contains("run-id=");
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ connected, 1 of 1"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ rejected: all 1 slots are busy"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ ended after 1 numbers"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  client /127\\.0\\.0\\.1:\\d+ closed for invalid input after 0 numbers"));
            assertThat(lines).anyMatch(l -> l.matches(".* INFO  shutting down: terminate from /127\\.0\\.0\\.1:\\d+"));
            assertThat(lines.get(lines.size() - 1)).endsWith("INFO  stopped: unique total 1, duplicates 0, exit status 0");
        }
    }

    @Test
    void quietKeepsOnlyWarningsAndErrors() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            // The metrics port taken: an error. (The command port is off, as in every test here.)
            try (PackagedServer server = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", "0", "--admin-port", "0",
                    "--quiet", "--metrics-port", Integer.toString(taken.getLocalPort()))) {
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
                assertThat(errorLines(server)).singleElement().asString()
                        .isEqualTo("numbers-server: cannot open metrics port " + taken.getLocalPort() + ": address already in use");
            }
        }
        Path quietDir = java.nio.file.Files.createDirectory(dir.resolve("quiet"));
        int port = SidePortsTest.freePort();
        try (PackagedServer server = PackagedServer.launch(quietDir, "--bind", "127.0.0.1", "--port", Integer.toString(port),
                "--admin-port", "0", "-q")) {
            await().ignoreExceptions().until(() -> { // no "started" line to wait for: wait for the port
                TestClient.connect(port).close();
                return true;
            });
            server.signal("TERM");
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            assertThat(errorLines(server)).as("no INFO lines").isEmpty();
            assertThat(server.stdout).isEmpty();
        }
    }

    @Test
    void aCommandPortAskedForByNameMustOpen() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            try (PackagedServer server = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", "0", "--admin-port", Integer.toString(port))) {
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
                assertThat(errorLines(server)).singleElement().asString()
                        .isEqualTo("numbers-server: cannot open command port " + port + ": address already in use");
            }
        }
    }

    @Test
    void theDefaultCommandPortTakenIsAWarningAndTheServerRuns() throws Exception {
        assumeThat(portIsFree(ServerConfig.DEFAULT_ADMIN_PORT)).as("port 9999 is free on this machine").isTrue();
        try (ServerSocket taken = new ServerSocket(ServerConfig.DEFAULT_ADMIN_PORT, 50, InetAddress.getLoopbackAddress());
             PackagedServer server = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", "0")) {
            server.awaitStarted();
            assertThat(server.stderr).anyMatch(l -> l.contains("WARN  command port 9999 not opened (address already in use); running without it"));
            try (TestClient client = server.connect()) {
                client.send("000000009\nterminate\n");
                assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
            }
            assertThat(server.logLines()).containsExactly("9");
        }
    }

    /** stderr lines that are not the launcher's build messages. */
    private static List<String> errorLines(PackagedServer server) {
        List<String> lines = new ArrayList<>(server.stderr);
        lines.removeIf(l -> l.startsWith("numbers-server: building"));
        assertThat(lines).noneMatch(l -> l.contains("Exception") || l.startsWith("\tat "));
        return lines;
    }

    private static boolean portIsFree(int port) {
        try (ServerSocket probe = new ServerSocket(port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
