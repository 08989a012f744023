package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DiskTroubleTest {

    private final CapturedDiagnostics said = CapturedDiagnostics.capture();
    private final DiskTrouble trouble = new DiskTrouble("holding clients back", "clients are read again");

    @AfterEach
    void restore() {
        said.close();
    }

    /**
     * Four threads fail at once (four clients waiting on one fsync of --fsync always) and then
     * succeed: the failure and the recovery are each said once, not once per thread.
     */
    @Test
    void saysAnEpisodeOnceHoweverManyThreadsSeeIt() throws Exception {
        AtomicBoolean failing = new AtomicBoolean(true);
        CyclicBarrier together = new CyclicBarrier(4);
        CountDownLatch allFailedOnce = new CountDownLatch(4);
        CompletableFuture<?>[] threads = new CompletableFuture<?>[4];
        for (int t = 0; t < 4; t++) {
            threads[t] = CompletableFuture.runAsync(() -> {
                await(together);
                trouble.untilItWorks("force numbers.log to disk", () -> {
                    if (failing.get()) {
                        allFailedOnce.countDown();
                        throw new IOException("Input/output error");
                    }
                });
            }, runnable -> new Thread(runnable).start());
        }
        assertThat(allFailedOnce.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(trouble.isFailing()).isTrue();
        failing.set(false);
        CompletableFuture.allOf(threads).get(10, TimeUnit.SECONDS);
        assertThat(trouble.isFailing()).isFalse();
        List<String> lines = said.lines();
        assertThat(lines).filteredOn(l -> l.contains("ERROR")).singleElement().asString()
                .endsWith("ERROR cannot force numbers.log to disk: Input/output error; holding clients back");
        assertThat(lines).filteredOn(l -> l.contains("WARN")).singleElement().asString()
                .contains("could force numbers.log to disk again after").endsWith("ms of failures; clients are read again");
    }

    @Test
    void abandoningEndsTheWaitWithOneLastAttempt() throws Exception {
        CountDownLatch failedOnce = new CountDownLatch(1);
        CompletableFuture<Boolean> writing = CompletableFuture.supplyAsync(() -> trouble.untilItWorks("write x", () -> {
            failedOnce.countDown();
            throw new IOException("No space left on device");
        }), ServerUnderTest.THREAD_PER_TASK);
        assertThat(failedOnce.await(5, TimeUnit.SECONDS)).isTrue();
        trouble.abandon();
        assertThat(writing.get(5, TimeUnit.SECONDS)).isFalse();
        assertThat(trouble.lastFailure()).isEqualTo("No space left on device");
        assertThat(trouble.untilItWorks("write x", () -> { })).as("works again after abandon").isTrue();
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
