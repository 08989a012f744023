package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.numbers.ops.Diagnostics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResourceStackTest {

    private final ByteArrayOutputStream said = new ByteArrayOutputStream();

    ResourceStackTest() {
        Diagnostics.configure(new PrintStream(said, true, StandardCharsets.UTF_8), false);
    }

    @AfterEach
    void restore() {
        Diagnostics.configure(System.err, false);
    }

    @Test
    void closesInReverseOrderOnceAndGoesOnPastAFailure() {
        List<String> closed = new ArrayList<>();
        ResourceStack stack = new ResourceStack();
        stack.push("port", () -> closed.add("port"));
        stack.push("log", () -> {
            closed.add("log");
            throw new IOException("disk gone");
        });
        stack.push("threads", () -> closed.add("threads"));
        stack.closeAll();
        stack.closeAll();
        assertThat(closed).containsExactly("threads", "log", "port");
        assertThat(said.toString(StandardCharsets.UTF_8)).contains("WARN  closing the log failed: disk gone");
    }
}
