package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server as users run it: the packaged jar, started by the README's launcher
 * ({@code ./numbers-server}) as a process of its own, in a working directory of its own, with
 * {@code NUMBERS_SERVER_JAR} set so that the launcher runs the jar just built and never starts a
 * build of its own. stdout and stderr are collected line by line.
 */
final class PackagedServer implements ServerUnderTest {

    /** The launcher and the jar; the build passes their paths (failsafe's system properties). */
    static final Path LAUNCHER = Path.of(System.getProperty("numbers.launcher", "../numbers-server")).toAbsolutePath().normalize();
    static final Path JAR = Path.of(System.getProperty("numbers.jar", "target/numbers-server.jar")).toAbsolutePath().normalize();
    /** The JVM options file the launcher reads by default. */
    static final Path OPTIONS = LAUNCHER.resolveSibling("jvm/server.options");
    private static final Pattern STARTED_PORT = Pattern.compile("started port=(\\d+)");

    final Process process;
    final Path workDir;
    final List<String> stdout = new CopyOnWriteArrayList<>();
    /** When each line of {@link #stdout} arrived ({@link System#nanoTime}). */
    final List<Long> stdoutArrivals = new CopyOnWriteArrayList<>();
    final List<String> stderr = new CopyOnWriteArrayList<>();
    private final Thread stdoutReader;
    private final Thread stderrReader;

    private PackagedServer(Process process, Path workDir) {
        this.process = process;
        this.workDir = workDir;
        this.stdoutReader = collect(process.getInputStream(), stdout, stdoutArrivals);
        this.stderrReader = collect(process.getErrorStream(), stderr, new CopyOnWriteArrayList<>());
    }

    /** Starts a server with its log in {@code dir} and waits until it listens. */
    static PackagedServer start(Path dir, String... args) throws IOException, InterruptedException {
        PackagedServer server = launch(dir, ServerUnderTest.defaultArgs(args).toArray(String[]::new));
        server.awaitStarted();
        return server;
    }

    /** Runs the launcher with exactly {@code args} in {@code workDir}; waits for nothing. */
    static PackagedServer launch(Path workDir, String... args) throws IOException {
        return launch(workDir, Map.of(), args);
    }

    /** As {@link #launch(Path, String...)}, with {@code environment} added to the launcher's. */
    static PackagedServer launch(Path workDir, Map<String, String> environment, String... args) throws IOException {
        return launchThrough(workDir, List.of(), environment, args);
    }

    /**
     * As {@link #launch(Path, Map, String...)}, the launcher run by {@code wrapper} (a command
     * that runs its arguments, such as {@code bash -c 'ulimit -n 20; exec "$@"' --}).
     */
    static PackagedServer launchThrough(Path workDir, List<String> wrapper, Map<String, String> environment, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.add(LAUNCHER.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().put("NUMBERS_SERVER_JAR", JAR.toString());
        // The server's own options, and the quick compiler only: a test's server lives seconds,
        // where the full compiler costs a third of a second of CPU that the other tests want.
        // A test that sets its own options gets exactly those (the launcher then skips the file).
        builder.environment().put("NUMBERS_SERVER_JAVA_OPTS", "@" + OPTIONS + " -XX:TieredStopAtLevel=1");
        builder.environment().putAll(environment);
        return new PackagedServer(builder.start(), workDir);
    }

    /** Waits for the "started" line. */
    void awaitStarted() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (port() < 0) {
            if (!process.isAlive()) {
                throw new AssertionError("server exited with " + process.exitValue() + " before starting: " + stderr);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("server did not start within 30 s: " + stderr);
            }
            Thread.sleep(10);
        }
    }

    /** The port from the "started" line on stderr, or -1 before it. */
    @Override
    public int port() {
        for (String line : stderr) {
            Matcher m = STARTED_PORT.matcher(line);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
        }
        return -1;
    }

    @Override
    public Path log() {
        return workDir.resolve("numbers.log");
    }

    @Override
    public List<String> reportLines() {
        return List.copyOf(stdout);
    }

    @Override
    public void requestStop() throws IOException, InterruptedException {
        signal("TERM");
    }

    /** Sends a signal by name (TERM, INT, KILL, QUIT) with kill(1). */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -" + name + " failed");
        }
    }

    /** Waits for the process to exit and its output to be read; returns the exit status. */
    @Override
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("server still running after " + timeout + "; stderr: " + stderr);
        }
        stdoutReader.join(5_000);
        stderrReader.join(5_000);
        return process.exitValue();
    }

    /** stderr, which must hold no stack trace. */
    List<String> diagnostics() {
        List<String> lines = List.copyOf(stderr);
        assertThat(lines).as("no stack trace on stderr").noneMatch(l -> l.contains("Exception") || l.startsWith("\tat "));
        return lines;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Thread collect(InputStream stream, List<String> lines, List<Long> arrivals) {
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    arrivals.add(System.nanoTime());
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(reading the stream failed: " + e + ")");
            }
        });
        reader.setDaemon(true);
        reader.start();
        return reader;
    }
}
