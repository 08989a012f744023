package dev.numbers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server as users run it: the README's launcher, {@code ./numbers-server}, as a separate
 * process in a working directory of its own. stdout and stderr are collected line by line.
 */
final class ServerProcess implements AutoCloseable {

    static final Path LAUNCHER = Path.of("..", "numbers-server").toAbsolutePath().normalize();
    private static final Pattern STARTED_PORT = Pattern.compile("started port=(\\d+)");

    final Process process;
    final Path workDir;
    final List<String> stdout = new CopyOnWriteArrayList<>();
    final List<String> stderr = new CopyOnWriteArrayList<>();
    private final Thread stdoutReader;
    private final Thread stderrReader;

    private ServerProcess(Process process, Path workDir) {
        this.process = process;
        this.workDir = workDir;
        this.stdoutReader = collect(process.getInputStream(), stdout);
        this.stderrReader = collect(process.getErrorStream(), stderr);
    }

    /** Runs the launcher with {@code args} in {@code workDir}; does not wait for anything. */
    static ServerProcess launch(Path workDir, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(LAUNCHER.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        return new ServerProcess(builder.start(), workDir);
    }

    /** Starts a server on a free loopback port and waits until it listens. */
    static ServerProcess start(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("--bind", "127.0.0.1", "--port", "0", "--admin-port", "0"));
        all.addAll(List.of(args));
        ServerProcess server = launch(workDir, all.toArray(String[]::new));
        server.awaitStarted();
        return server;
    }

    void awaitStarted() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (port() < 0) {
            if (!process.isAlive()) {
                throw new AssertionError("server exited with " + process.exitValue() + " before starting: " + stderr);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("server did not start within 60 s: " + stderr);
            }
            Thread.sleep(10);
        }
    }

    /** The port from the "started" line on stderr, or -1 before it. */
    int port() {
        for (String line : stderr) {
            Matcher m = STARTED_PORT.matcher(line);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
        }
        return -1;
    }

    TestClient connect() throws IOException {
        return TestClient.connect(port());
    }

    Path log() {
        return workDir.resolve("numbers.log");
    }

    List<String> logLines() throws IOException {
        return Files.readAllLines(log(), StandardCharsets.US_ASCII);
    }

    /** Sends a signal by name (TERM, INT, KILL) with kill(1). */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -" + name + " failed");
        }
    }

    /** Waits for the process to exit and its output to be read; returns the exit status. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("server still running after " + timeout + "; stderr: " + stderr);
        }
        stdoutReader.join(5_000);
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

    private static Thread collect(InputStream stream, List<String> lines) {
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
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
