package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BatchesInFlightTest {

    private final BatchesInFlight inFlight = new BatchesInFlight(3);

    @Test
    void returnsAtOnceWhenNoOtherBatchIsInFlight() throws Exception {
        inFlight.begin(0); // its own batch does not count
        inFlight.begin(1);
        inFlight.end(1);
        inFlight.awaitOthers(0);
        assertThat(inFlight.inFlight(0)).isTrue();
        assertThat(inFlight.inFlight(1)).isFalse();
    }

    @Test
    void waitsForABatchInFlightUntilItEnds() throws Exception {
        inFlight.begin(1);
        CountDownLatch waiting = new CountDownLatch(1);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
            waiting.countDown();
            awaitOthers(0);
        }, ServerUnderTest.THREAD_PER_TASK);
        waiting.await();
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !closing.isDone());
        inFlight.end(1);
        closing.get(5, TimeUnit.SECONDS);
    }

    /** A batch that begins after the wait began is not waited for: a close cannot be starved. */
    @Test
    void doesNotWaitForBatchesThatBeginLater() throws Exception {
        inFlight.begin(1);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> awaitOthers(0), ServerUnderTest.THREAD_PER_TASK);
        await().until(() -> threadsWaiting() >= 1);
        inFlight.end(1);
        inFlight.begin(1); // the next batch of slot 1, in flight again
        closing.get(5, TimeUnit.SECONDS);
    }

    /** While it waits (a batch held by a failing disk), the waiting thread burns no CPU. */
    @Test
    void aLongWaitCostsNoCpu() throws Exception {
        inFlight.begin(2);
        AtomicThread waiter = new AtomicThread();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
            waiter.set(Thread.currentThread().getId());
            awaitOthers(0);
        }, ServerUnderTest.THREAD_PER_TASK);
        await().until(() -> waiter.get() != 0 && threadsWaiting() >= 1);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        // Asleep until woken, not a loop of timed parks (TIMED_WAITING) or spins (RUNNABLE): a
        // state, not a CPU-time budget that a loaded machine could break either way.
        for (int look = 0; look < 20; look++) {
            assertThat(threads.getThreadInfo(waiter.get()).getThreadState()).as("look " + look).isEqualTo(Thread.State.WAITING);
            Thread.sleep(5);
        }
        inFlight.end(2);
        closing.get(5, TimeUnit.SECONDS);
    }

    private void awaitOthers(int slot) {
        try {
            inFlight.awaitOthers(slot);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Threads of this JVM waiting on a monitor (Object.wait), as BatchesInFlight's sleepers do. */
    private static long threadsWaiting() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getState() == Thread.State.WAITING)
                .filter(t -> {
                    for (StackTraceElement frame : t.getStackTrace()) {
                        if (frame.getClassName().equals(BatchesInFlight.class.getName())) {
                            return true;
                        }
                    }
                    return false;
                }).count();
    }

    private static final class AtomicThread {
        private volatile long id;

        void set(long value) {
            id = value;
        }

        long get() {
            return id;
        }
    }
}
