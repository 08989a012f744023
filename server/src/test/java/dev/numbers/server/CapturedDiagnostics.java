package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The server's diagnostics, kept for a test instead of printed; {@link #close} sends them to stderr again. */
final class CapturedDiagnostics implements AutoCloseable {

    private final ByteArrayOutputStream said = new ByteArrayOutputStream();

    private CapturedDiagnostics(boolean quiet) {
        Diagnostics.configure(new PrintStream(said, true, StandardCharsets.UTF_8), quiet);
    }

    static CapturedDiagnostics capture() {
        return new CapturedDiagnostics(false);
    }

    /** As with {@code --quiet}: warnings and errors only. */
    static CapturedDiagnostics captureQuiet() {
        return new CapturedDiagnostics(true);
    }

    /** What was said so far: waits for the diagnostics' writer thread to have written it. */
    String text() {
        if (!Diagnostics.awaitWritten(5_000)) {
            throw new AssertionError("the diagnostics were not written within 5 s");
        }
        return said.toString(StandardCharsets.UTF_8);
    }

    List<String> lines() {
        return text().lines().toList();
    }

    @Override
    public void close() {
        Diagnostics.configure(null, false);
    }
}
