package dev.numbers.server;

import dev.numbers.ops.ServerStatus;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's counters. Client threads add to them once per read batch, never per number; the
 * reporter and the command port read them. Lock-free.
 */
final class Stats {

    private final long startNanos = System.nanoTime();
    private final AtomicLong uniqueTotal = new AtomicLong();
    private final AtomicLong duplicateTotal = new AtomicLong();
    private final AtomicInteger connectedClients = new AtomicInteger();
    private final AtomicLong invalidClosed = new AtomicLong();
    /** Written once a second by {@link #sampleRate}'s single caller; read by anyone. */
    private volatile long lastSampleTotal;
    private volatile long ratePerSecond;

    /** Counts one read batch: {@code unique} numbers new to the run, {@code duplicates} not. */
    void recordBatch(int unique, int duplicates) {
        if (unique > 0) {
            uniqueTotal.addAndGet(unique);
        }
        if (duplicates > 0) {
            duplicateTotal.addAndGet(duplicates);
        }
    }

    void clientConnected() {
        connectedClients.incrementAndGet();
    }

    void clientDisconnected() {
        connectedClients.decrementAndGet();
    }

    void invalidInputClosed() {
        invalidClosed.incrementAndGet();
    }

    /** Called once a second, by one thread: the rate is the numbers received since the last call. */
    void sampleRate() {
        long total = uniqueTotal() + duplicateTotal();
        ratePerSecond = total - lastSampleTotal;
        lastSampleTotal = total;
    }

    /** Time since these counters started, with the server. */
    long uptimeNanos() {
        return System.nanoTime() - startNanos;
    }

    /** Numbers received (unique and duplicate) in the last second sampled. */
    long ratePerSecond() {
        return ratePerSecond;
    }

    long uniqueTotal() {
        return uniqueTotal.get();
    }

    long duplicateTotal() {
        return duplicateTotal.get();
    }

    int connectedClients() {
        return connectedClients.get();
    }

    long invalidClosed() {
        return invalidClosed.get();
    }

    /** A snapshot for the side ports, with the figures of {@code log} (0 while it is not open: null). */
    ServerStatus status(UUID runId, NumberLog log) {
        boolean open = log != null;
        return new ServerStatus(runId.toString(), TimeUnit.NANOSECONDS.toSeconds(uptimeNanos()), connectedClients(),
                uniqueTotal(), duplicateTotal(), ratePerSecond(), invalidClosed(), open ? log.bytesWritten() : 0,
                open ? log.fsyncCount() : 0, open ? log.fsyncNanos() : 0, open && log.isFailing());
    }
}
