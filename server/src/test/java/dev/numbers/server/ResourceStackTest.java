package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResourceStackTest {

    private final CapturedDiagnostics said = CapturedDiagnostics.capture();

    @AfterEach
    void restore() {
        said.close();
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
        assertThat(said.text()).contains("WARN  closing the log failed: disk gone");
    }
}
