package dev.numbers.server;

import static dev.numbers.server.ServerUnderTest.EXIT_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.numbers.cli.Main;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Starting the packaged server as users do: options, help, and every way a start can fail. A
 * failure is one line on stderr and the right exit status, leaves no process behind and never
 * touches an existing log.
 */
class StartupIT {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"--no-such-option", "--port=seventy", "--port=70000", "--max-clients=0",
        "--max-clients=2147483647", "--log=", "--log-format=fancy", "--report-interval=soon", "--report-interval=off",
        "--report-interval=0.0001", "--report-interval=PT3000000H", "--idle-timeout=-5s", "--idle-timeout=50ms",
        "--fsync=sometimes", "--admin-port=70000", "--bind=no.such.host.invalid", "--metrics-port=9999", "--admin-port=4000",
        "--port=9999"})
    void aBadOptionIsOneLineAndExitStatusTwo(String option) throws Exception {
        try (PackagedServer server = PackagedServer.launch(dir, option)) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(2);
            assertThat(server.diagnostics()).singleElement().asString().startsWith("numbers-server: ").endsWith(" (see --help)")
                    .doesNotContainPattern("got PT|PT0S").doesNotContain("java.");
            assertThat(server.stdout).isEmpty();
        }
    }

    @Test
    void optionValuesAreCaseInsensitiveAndDurationsAreShownAsTyped() throws Exception {
        try (PackagedServer server = PackagedServer.start(dir, "--fsync", "ALWAYS", "--log-format", "Padded",
                "--report-interval", "1.5", "--idle-timeout", "2m")) {
            assertThat(server.diagnostics().get(0)).contains(" fsync=always ").contains(" log-format=padded ")
                    .contains(" report-interval=1.5s ").contains(" idle-timeout=2m ");
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

    /**
     * Runs {@code script} with bash in a network namespace of its own (loopback only, nothing else
     * on it), in {@link #dir}, with {@code $LAUNCHER} the launcher and the jar as the other tests
     * run them: a test that needs the fixed ports 4000 or 9999 cannot meet anything else there.
     *
     * @return what the script printed on stdout
     */
    private String inPrivateNetwork(String script) throws Exception {
        Process probe = new ProcessBuilder("unshare", "-n", "true").start();
        Skip.unless(probe.waitFor() == 0, "unshare -n is not permitted here (it needs root)");
        ProcessBuilder builder = new ProcessBuilder("unshare", "-n", "bash", "-c", "ip link set lo up || exit 1\n" + script)
                .directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().put("LAUNCHER", PackagedServer.LAUNCHER.toString());
        builder.environment().put("NUMBERS_SERVER_JAR", PackagedServer.JAR.toString());
        Process run = builder.start();
        String out = new String(run.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(run.waitFor()).as("the script: " + out).isZero();
        return out;
    }

    /** Starts the server as the script's "$@" says, waits for its started line, leaves its pid in $pid. */
    private static final String START = """
            "$LAUNCHER" "$@" > out.txt 2> err.txt & pid=$!
            for _ in $(seq 1 300); do grep -q 'started port=' err.txt && break; sleep 0.1; done
            """;

    @Test
    void runsWithNoOptionsOnPort4000WithTheLogInTheWorkingDirectory() throws Exception {
        String out = inPrivateNetwork("set --\n" + START + """
                exec 3<>/dev/tcp/127.0.0.1/4000 && printf '000000400\nterminate\n' >&3 && exec 3>&-
                wait "$pid"; echo "exit $?"
                """);
        assertThat(out).contains("exit 0");
        assertThat(Files.readString(dir.resolve("err.txt"))).contains("INFO  started port=4000 ").contains(" admin-port=9999 ");
        assertThat(Files.readAllLines(dir.resolve("numbers.log"))).containsExactly("400");
    }

    @Test
    void aPortInUseIsOneLineAndTheLogIsLeftAlone() throws Exception {
        Files.writeString(dir.resolve("numbers.log"), "1\n2\n");
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             PackagedServer server = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", Integer.toString(taken.getLocalPort()))) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString()
                    .isEqualTo("numbers-server: cannot listen on port " + taken.getLocalPort() + " (127.0.0.1): address already in use");
        }
        assertThat(Files.readString(dir.resolve("numbers.log"))).isEqualTo("1\n2\n");
    }

    @Test
    void anUnwritableLogIsOneLineNamingIt() throws Exception {
        Path notADirectory = dir.resolve("file");
        Files.writeString(notADirectory, "x");
        Path log = notADirectory.resolve("numbers.log");
        try (PackagedServer server = PackagedServer.launch(dir, "--port", "0", "--admin-port", "0", "--log", log.toString())) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString().startsWith("numbers-server: cannot create log file " + log + ": ");
        }
    }

    @Test
    void aSecondServerOnTheSameLogDoesNotStartAndLeavesTheLogAlone() throws Exception {
        try (PackagedServer first = PackagedServer.start(dir)) {
            try (TestClient client = first.connect()) {
                client.send("000000001\n");
                await().until(() -> first.logLines().size() == 1);
                try (PackagedServer second = PackagedServer.launch(dir, ServerUnderTest.defaultArgs().toArray(String[]::new))) {
                    assertThat(second.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
                    assertThat(second.diagnostics()).singleElement().asString().isEqualTo(
                            "numbers-server: cannot create log file numbers.log: in use: locked by another process (another numbers-server?)");
                }
                client.send("000000002\n").finish().awaitClosedByServer(ServerUnderTest.CLOSE_TIMEOUT);
            }
            assertThat(Files.readString(first.log())).isIn("1\n2\n", "2\n1\n");
        }
    }

    /**
     * More slots than the JVM has direct memory for (the launcher's options allow about 350): a
     * one-line error and exit 1, before the port opens or the log is touched, and no process
     * left behind. (It used to print an OutOfMemoryError trace, then hang, ignoring SIGTERM.)
     */
    @Test
    void moreClientsThanTheJvmHasMemoryForIsOneLineAndExitStatusOne() throws Exception {
        Files.writeString(dir.resolve("numbers.log"), "1\n");
        try (PackagedServer server = PackagedServer.launch(dir, ServerUnderTest.defaultArgs("--max-clients", "1000")
                .toArray(String[]::new))) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString().startsWith(
                    "numbers-server: not enough memory for 1000 client slots (500 MB of direct memory and ");
            assertThat(server.process.isAlive()).isFalse();
        }
        assertThat(Files.readString(dir.resolve("numbers.log"))).isEqualTo("1\n");
    }

    /**
     * Slots for which the heap has room, but not for the rest of the start (with the launcher's
     * options, about 230 fit): one line, exit 1, the log untouched. Between 309 and 310 the old
     * start filled the heap and printed an OutOfMemoryError trace from its own error path.
     */
    @ParameterizedTest
    @ValueSource(ints = {250, 300, 309, 310, 311})
    void slotsThatFillTheHeapAreOneLineAndExitStatusOne(int slots) throws Exception {
        Files.writeString(dir.resolve("numbers.log"), "1\n");
        try (PackagedServer server = PackagedServer.launch(dir, ServerUnderTest.defaultArgs("--max-clients", Integer.toString(slots))
                .toArray(String[]::new))) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString()
                    .startsWith("numbers-server: not enough memory for " + slots + " client slots");
        }
        assertThat(Files.readString(dir.resolve("numbers.log"))).isEqualTo("1\n");
    }

    /** {@code ulimit -n 20}: too few file descriptors is said in one line (it was a trace of 31). */
    @Test
    void tooFewFileDescriptorsIsOneLineAndExitStatusOne() throws Exception {
        try (PackagedServer server = PackagedServer.launchThrough(dir, List.of("bash", "-c", "ulimit -n 20 && exec \"$@\"", "--"),
                Map.of(), ServerUnderTest.defaultArgs().toArray(String[]::new))) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString()
                    .matches("numbers-server: too few file descriptors: the limit is 20 and \\d+ are open; the server needs \\d+ more "
                            + "for 5 client slots \\(raise the limit, ulimit -n, or use a smaller --max-clients\\)");
        }
    }

    /** An IPv6 address where the JVM has no IPv6 (here: told to run IPv4 only): one line, not "unexpected failure". */
    @Test
    void anIpv6AddressWithoutIpv6IsOneLine() throws Exception {
        try (PackagedServer server = PackagedServer.launch(dir, Map.of("NUMBERS_SERVER_JAVA_OPTS", "-Djava.net.preferIPv4Stack=true"),
                "--bind", "::1", "--port", "0", "--admin-port", "0")) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString().isEqualTo("numbers-server: cannot listen on port 0 "
                    + "(0:0:0:0:0:0:0:1): this machine has no IPv6 (or the JVM runs IPv4 only), so it cannot listen on an IPv6 address");
        }
    }

    /**
     * Started as a script's background job, with SIGINT ignored: the warning comes once the
     * server runs, after its started line; a start that fails says only why.
     */
    @Test
    void theSigintWarningComesOnlyOnceTheServerHasStarted() throws Exception {
        List<String> sigintIgnored = List.of("bash", "-c", "trap '' INT && exec \"$@\"", "--");
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             PackagedServer failing = PackagedServer.launchThrough(dir, sigintIgnored, Map.of(),
                     "--bind", "127.0.0.1", "--port", Integer.toString(taken.getLocalPort()), "--admin-port", "0")) {
            assertThat(failing.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(failing.diagnostics()).singleElement().asString().contains("address already in use");
        }
        try (PackagedServer server = PackagedServer.launchThrough(dir, sigintIgnored, Map.of(),
                ServerUnderTest.defaultArgs().toArray(String[]::new))) {
            server.awaitStarted();
            await().until(() -> server.stderr.size() >= 2);
            assertThat(server.stderr.get(0)).contains("INFO  started port=");
            assertThat(server.stderr.get(1)).endsWith("WARN  SIGINT is ignored by this process (a background job of a script?): "
                    + "stop it with SIGTERM");
            server.requestStop();
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isZero();
        }
    }

    /** A FIFO as the log would wait for a reader: it is refused in one line instead. */
    @Test
    void aFifoAsTheLogIsRefusedInOneLine() throws Exception {
        Process mkfifo = new ProcessBuilder("mkfifo", dir.resolve("numbers.log").toString()).start();
        Skip.unless(mkfifo.waitFor() == 0, "mkfifo is not available on this machine");
        try (PackagedServer server = PackagedServer.launch(dir, ServerUnderTest.defaultArgs().toArray(String[]::new))) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString().isEqualTo(
                    "numbers-server: cannot create log file numbers.log: is a FIFO; the log must be a regular file (or /dev/null)");
        }
    }

    @Test
    void aHeapTooSmallForTheSetIsOneLineAndExitStatusOne() throws Exception {
        try (PackagedServer server = PackagedServer.launch(dir, Map.of("NUMBERS_SERVER_JAVA_OPTS", "-Xmx64m"),
                ServerUnderTest.defaultArgs().toArray(String[]::new))) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString().isEqualTo("numbers-server: not enough memory for "
                    + "the 125 MB set of seen numbers: give the JVM a larger heap, for example -Xmx256m");
        }
    }

    @Test
    void aCommandPortAskedForByNameMustOpenAndItsFailureLeavesTheLogAlone() throws Exception {
        Files.writeString(dir.resolve("numbers.log"), "1\n");
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             PackagedServer server = PackagedServer.launch(dir, "--bind", "127.0.0.1", "--port", "0", "--admin-port",
                     Integer.toString(taken.getLocalPort()))) {
            assertThat(server.awaitExit(EXIT_TIMEOUT)).isEqualTo(1);
            assertThat(server.diagnostics()).singleElement().asString()
                    .isEqualTo("numbers-server: cannot open command port " + taken.getLocalPort() + ": address already in use");
        }
        assertThat(Files.readString(dir.resolve("numbers.log"))).isEqualTo("1\n");
    }

    @Test
    void theDefaultCommandPortTakenIsAWarningAndTheServerRuns() throws Exception {
        String out = inPrivateNetwork("""
                python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 9999)); s.listen(); time.sleep(60)' &
                holder=$!
                for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/9999) 2>/dev/null && break; sleep 0.05; done
                set -- --bind 127.0.0.1 --port 4000
                """ + START + """
                exec 3<>/dev/tcp/127.0.0.1/4000 && printf '000000009\nterminate\n' >&3 && exec 3>&-
                wait "$pid"; echo "exit $?"; kill "$holder"
                """);
        assertThat(out).contains("exit 0");
        assertThat(Files.readString(dir.resolve("err.txt")))
                .contains("WARN  command port 9999 not opened (address already in use); running without it");
        assertThat(Files.readAllLines(dir.resolve("numbers.log"))).containsExactly("9");
    }
}
