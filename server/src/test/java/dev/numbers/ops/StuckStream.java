package dev.numbers.ops;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/** A stderr nobody reads, for tests: every write waits until {@link #unblock}, then is kept. */
public final class StuckStream extends OutputStream {
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private final CountDownLatch blocked = new CountDownLatch(1);
    /** Counted down by the first write, which then waits. */
    final CountDownLatch firstWrite = new CountDownLatch(1);

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) {
        firstWrite.countDown();
        try {
            blocked.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (written) {
            written.write(bytes, offset, length);
        }
    }

    /** Lets every write through, from now on. */
    public void unblock() {
        blocked.countDown();
    }

    /** What got through. */
    public String text() {
        synchronized (written) {
            return written.toString(StandardCharsets.UTF_8);
        }
    }
}
