package dev.numbers.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release archive as an operator gets it: unpacked with tar into a directory of its own, the
 * server run through its launcher from another working directory (by a symbolic link, as from
 * /usr/local/bin), with nothing of the checkout or of Maven on hand. Each server is a process of
 * its own on loopback, on a port the OS picks.
 */
class ReleaseArchiveIT {

    private static final Path ARCHIVE = Path.of(System.getProperty("numbers.archive", "target/numbers-server-1.0.0.tar.gz"));
    private static final String ROOT = System.getProperty("numbers.archive.root", "numbers-server-1.0.0");
    private static final Pattern STARTED_PORT = Pattern.compile("started port=(\\d+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path unpacked;

    /** The archive's own directory, {@code numbers-server-VERSION/} in {@link #unpacked}. */
    private static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        assertThat(ARCHIVE).as("the archive built by package").isRegularFile();
        assertThat(run(List.of("tar", "-xzf", ARCHIVE.toAbsolutePath().toString(), "-C", unpacked.toString()), Map.of()).status)
                .isZero();
        home = unpacked.resolve(ROOT);
    }

    @Test
    void holdsTheLauncherTheJarsTheirOptionsTheUnitTheLicenceAndAReadme() throws IOException {
        assertThat(Files.getPosixFilePermissions(home.resolve("bin/numbers-server")))
                .contains(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);
        for (String file : List.of("lib/numbers-server.jar", "lib/numbers-load.jar", "jvm/server.options", "jvm/load.options",
                "systemd/numbers-server.service", "systemd/numbers-server.logrotate", "LICENSE", "README.md")) {
            assertThat(home.resolve(file)).as(file).isRegularFile().isReadable();
        }
        try (var lib = Files.list(home.resolve("lib"))) {
            assertThat(lib.map(p -> p.getFileName().toString())).as("lib/ holds the two runnable jars, nothing else")
                    .containsExactlyInAnyOrder("numbers-server.jar", "numbers-load.jar");
        }
        assertThat(Files.readString(home.resolve("systemd/numbers-server.service")))
                .contains("ExecStart=/opt/numbers-server/bin/numbers-server", "ExecReload=/bin/kill -USR1 $MAINPID",
                        "WorkingDirectory=/var/lib/numbers-server");
    }

    @Test
    void runsTheServerFromAnotherDirectoryThroughALinkAndStopsCleanlyOnSigterm(@TempDir Path work) throws Exception {
        // A relative link in a directory of its own, as /usr/local/bin/numbers-server would be.
        Path bin = Files.createDirectories(unpacked.resolve("local-bin"));
        Path link = Files.createSymbolicLink(bin.resolve("numbers-server"), Path.of("../" + ROOT + "/bin/numbers-server"));

        Server server = Server.start(work, List.of(link.toString(), "--port", "0", "--admin-port", "0", "--bind", "127.0.0.1"));
        try {
            int port = server.awaitPort();
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port);
                    OutputStream out = client.getOutputStream()) {
                out.write("000000042\n123456789\n000000042\n999999999\n".getBytes(StandardCharsets.US_ASCII));
            }
            Path log = work.resolve("numbers.log");
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.isRegularFile(log) && Files.readAllLines(log).size() == 3);

            server.signal("TERM");
            assertThat(server.awaitExit()).as("exit status after SIGTERM; stderr: %s", server.stderr).isZero();
            assertThat(Files.readAllLines(log)).containsExactlyInAnyOrder("42", "123456789", "999999999");
            assertThat(server.stderr)
                    .anySatisfy(line -> assertThat(line).contains("started port=" + port, "log=" + log.toRealPath()))
                    .anySatisfy(line -> assertThat(line).contains("shutting down: SIGTERM"))
                    .anySatisfy(line -> assertThat(line).contains("stopped: unique total 3, duplicates 1, exit status 0"));
            try (var files = Files.list(home)) {
                assertThat(files.map(p -> p.getFileName().toString())).as("nothing written where the archive is")
                        .doesNotContain("numbers.log");
            }
        } finally {
            server.close();
        }
    }

    @Test
    void runsTheLoadGenerator(@TempDir Path work) throws Exception {
        Result help = run(List.of(home.resolve("bin/numbers-server").toString(), "load", "--help"), Map.of(), work);
        assertThat(help.status).as(help.stderr).isZero();
        assertThat(help.stdout).startsWith("Usage: numbers-server load");
    }

    @Test
    void aJavaHomeWithoutAJavaIsOneClearLine(@TempDir Path work) throws Exception {
        Result result = run(List.of(home.resolve("bin/numbers-server").toString(), "--help"), Map.of("JAVA_HOME", "/nonexistent"), work);
        assertThat(result.status).isEqualTo(1);
        assertThat(result.stdout).isEmpty();
        assertThat(result.stderr).isEqualTo("numbers-server: JAVA_HOME is /nonexistent, which holds no java (/nonexistent/bin/java): "
                + "set it to a Java 17 or newer, or unset it to use the java on the PATH\n");
    }

    @Test
    void noJavaAtAllIsOneClearLine(@TempDir Path work) throws Exception {
        // A PATH with copies of the few commands the launcher needs, and no java; bash named in full.
        Path path = Files.createDirectories(work.resolve("path"));
        for (String command : List.of("dirname", "readlink")) {
            Files.copy(which(command), path.resolve(command), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Result result = run(List.of(which("bash").toString(), home.resolve("bin/numbers-server").toString(), "--help"),
                Map.of("PATH", path.toString(), "JAVA_HOME", ""), work);
        assertThat(result.status).isEqualTo(1);
        assertThat(result.stderr).isEqualTo("numbers-server: no java: install a Java 17 or newer (a JRE is enough), or set JAVA_HOME\n");
    }

    private static Path which(String command) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/local/bin")) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("no " + command + " in /usr/bin, /bin or /usr/local/bin");
    }

    private record Result(int status, String stdout, String stderr) {}

    private static Result run(List<String> command, Map<String, String> environment) throws IOException, InterruptedException {
        return run(command, environment, Path.of("."));
    }

    /** Runs a command to its end (at most 30 s), in {@code workDir}, with the test's Java as JAVA_HOME. */
    private static Result run(List<String> command, Map<String, String> environment, Path workDir)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        launcherEnvironment(builder.environment(), environment);
        Process process = builder.start();
        process.getOutputStream().close();
        var stdout = new CompletableFuture<String>();
        var stderr = new CompletableFuture<String>();
        drain(process.getInputStream(), stdout);
        drain(process.getErrorStream(), stderr);
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " still running after 30 s");
        }
        return new Result(process.exitValue(), stdout.join(), stderr.join());
    }

    private static void drain(InputStream stream, CompletableFuture<String> text) {
        Thread reader = new Thread(() -> {
            try (stream) {
                text.complete(new String(stream.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                text.complete("(reading the stream failed: " + e + ")");
            }
        }, "drain");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * The launcher's environment: this test's Java as JAVA_HOME, none of the variables that would
     * change which jar or options it runs; then {@code overrides}, where an empty value removes one.
     */
    private static void launcherEnvironment(Map<String, String> env, Map<String, String> overrides) {
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.remove("NUMBERS_SERVER_JAVA_OPTS");
        env.remove("NUMBERS_SERVER_JAR");
        env.remove("NUMBERS_LOAD_JAR");
        overrides.forEach((name, value) -> {
            if (value.isEmpty()) {
                env.remove(name);
            } else {
                env.put(name, value);
            }
        });
    }

    /** A server started through the launcher, its stderr collected line by line. */
    private static final class Server implements AutoCloseable {
        final Process process;
        final List<String> stderr = new CopyOnWriteArrayList<>();
        private final Thread stderrReader;

        private Server(Process process) {
            this.process = process;
            this.stderrReader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        stderr.add(line);
                    }
                } catch (IOException e) {
                    stderr.add("(reading stderr failed: " + e + ")");
                }
            }, "server-stderr");
            stderrReader.setDaemon(true);
            stderrReader.start();
        }

        static Server start(Path workDir, List<String> command) throws IOException {
            ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).directory(workDir.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            launcherEnvironment(builder.environment(), Map.of());
            return new Server(builder.start());
        }

        /** The port from the {@code started} line on stderr, once the server has printed it. */
        int awaitPort() {
            return await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(20)).until(() -> {
                if (!process.isAlive()) {
                    throw new AssertionError("the server exited with " + process.exitValue() + " before it started: " + stderr);
                }
                for (String line : stderr) {
                    Matcher m = STARTED_PORT.matcher(line);
                    if (m.find()) {
                        return Integer.parseInt(m.group(1));
                    }
                }
                return -1;
            }, port -> port > 0);
        }

        /** Sends a signal by name with kill(1): the launcher exec'd java, so this is the JVM. */
        void signal(String name) throws IOException, InterruptedException {
            assertThat(new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor()).isZero();
        }

        int awaitExit() throws InterruptedException {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the server still runs 30 s after the signal: " + stderr);
            }
            stderrReader.join(5_000);
            return process.exitValue();
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
