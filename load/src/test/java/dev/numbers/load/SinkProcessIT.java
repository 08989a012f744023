package dev.numbers.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code load --sink} as users run it: the packaged jar through the launcher, stopped by a signal. */
class SinkProcessIT {

    private static final Path LAUNCHER = Path.of(System.getProperty("numbers.launcher", "../numbers-server")).toAbsolutePath().normalize();
    private static final Path JAR = Path.of(System.getProperty("numbers.load.jar", "target/numbers-load.jar")).toAbsolutePath().normalize();
    private static final Pattern LISTENING = Pattern.compile("^sink: listening on 127\\.0\\.0\\.1:(\\d+), .*SIGTERM stops it$");

    @TempDir
    Path dir;

    @Test
    void sigtermPrintsTheSummaryAndExitsZero() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(LAUNCHER.toString(), "load", "--sink", "--port", "0").directory(dir.toFile());
        builder.environment().put("NUMBERS_LOAD_JAR", JAR.toString());
        Process process = builder.start();
        try {
            List<String> stderr = new CopyOnWriteArrayList<>();
            Thread reader = collect(process, stderr);
            await().atMost(Duration.ofSeconds(30)).until(() -> stderr.stream().anyMatch(l -> LISTENING.matcher(l).matches()));
            Matcher listening = stderr.stream().map(LISTENING::matcher).filter(Matcher::matches).findFirst().orElseThrow();
            int port = Integer.parseInt(listening.group(1));

            try (SocketChannel client = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                ByteBuffer payload = ByteBuffer.wrap(new byte[1000]);
                while (payload.hasRemaining()) {
                    client.write(payload);
                }
                client.shutdownOutput();
                assertTimeoutPreemptively(Duration.ofSeconds(10), () -> { // the sink closes once it has read all of it
                    ByteBuffer rest = ByteBuffer.allocate(64);
                    while (client.read(rest) >= 0) {
                        rest.clear();
                    }
                });
            }
            Process kill = new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).inheritIO().start();
            assertThat(kill.waitFor()).isZero();

            assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("exited; stderr: %s", stderr).isTrue();
            reader.join(5_000);
            assertThat(process.exitValue()).isZero();
            assertThat(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
            assertThat(stderr).last().asString()
                    .matches("sink: stopped by a signal: served 1 connection, read 1000 bytes in \\d+\\.\\d{3} s of reading: \\d+\\.\\d MB/s");
            assertThat(stderr).noneMatch(l -> l.contains("Exception"));
        } finally {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Thread collect(Process process, List<String> lines) {
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "sink-stderr");
        reader.setDaemon(true);
        reader.start();
        return reader;
    }
}
