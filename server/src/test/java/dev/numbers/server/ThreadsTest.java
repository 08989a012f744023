package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ThreadsTest {

    private final CapturedDiagnostics said = CapturedDiagnostics.captureQuiet(); // errors show even with --quiet

    @AfterEach
    void restore() {
        said.close();
    }

    @Test
    void aThreadThatDiesOfAnUncaughtExceptionIsOneErrorLine() throws Exception {
        Thread thread = Threads.named("client").newThread(() -> {
            throw new IllegalStateException("boom");
        });
        assertThat(thread.getName()).isEqualTo("client-1");
        assertThat(thread.isDaemon()).isTrue();
        thread.start();
        thread.join();
        assertThat(said.lines()).singleElement().asString()
                .contains("ERROR thread client-1 failed, please report it: java.lang.IllegalStateException: boom at ");
    }

    /** A periodic task that throws is reported, and keeps its schedule instead of being cancelled. */
    @Test
    void aPeriodicTaskThatThrowsIsReportedAndRunsAgain() {
        AtomicInteger runs = new AtomicInteger();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Threads.named("timer"));
        try {
            timer.scheduleAtFixedRate(Threads.reporting("the report", () -> {
                if (runs.incrementAndGet() == 1) {
                    throw new IllegalStateException("stdout exploded");
                }
            }), 0, 10, TimeUnit.MILLISECONDS);
            await().until(() -> runs.get() >= 3);
        } finally {
            timer.shutdownNow();
        }
        assertThat(said.lines()).singleElement().asString()
                .contains("ERROR the report failed, please report it: java.lang.IllegalStateException: stdout exploded");
    }
}
