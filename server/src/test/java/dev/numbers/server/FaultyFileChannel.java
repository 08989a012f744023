package dev.numbers.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real file channel that can be told to fail like a full disk: after a given number of bytes
 * a write is cut short (as the kernel does when space runs out mid-write) and the next one
 * throws "No space left on device", until {@link #heal} is called. It can also hold writes (a
 * slow disk) until released, and it counts forces.
 */
final class FaultyFileChannel extends FileChannel {

    private final FileChannel delegate;
    private volatile long bytesBeforeFailure = Long.MAX_VALUE;
    private volatile boolean failForce;
    final AtomicInteger forces = new AtomicInteger();
    final AtomicInteger failedWrites = new AtomicInteger();
    /** Writes that wrote something. */
    final AtomicInteger writes = new AtomicInteger();
    private volatile CountDownLatch hold;
    /** Counted down by each write that starts while writes are held. */
    private volatile CountDownLatch heldWriteStarted = new CountDownLatch(1);

    FaultyFileChannel(FileChannel delegate) {
        this.delegate = delegate;
    }

    /** From now on, writes succeed for {@code bytes} more bytes, then fail. */
    void failAfter(long bytes) {
        bytesBeforeFailure = bytes;
    }

    void failForce(boolean fail) {
        failForce = fail;
    }

    /** From now on, every write waits until {@link #release}; {@link #awaitHeldWrite} sees one start. */
    void holdWrites() {
        heldWriteStarted = new CountDownLatch(1);
        hold = new CountDownLatch(1);
    }

    /** Waits until a write is being held; false after {@code millis} without one. */
    boolean awaitHeldWrite(long millis) throws InterruptedException {
        return heldWriteStarted.await(millis, TimeUnit.MILLISECONDS);
    }

    /** Lets held writes go on, and the next ones through. */
    void release() {
        CountDownLatch current = hold;
        hold = null;
        if (current != null) {
            current.countDown();
        }
    }

    void heal() {
        bytesBeforeFailure = Long.MAX_VALUE;
        failForce = false;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return write(src, -1);
    }

    /** A write at {@code position}, or at the end (append mode) for -1. */
    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        CountDownLatch held = hold;
        if (held != null) {
            heldWriteStarted.countDown();
            try {
                held.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while held", e);
            }
        }
        long allowed = bytesBeforeFailure;
        if (allowed <= 0) {
            failedWrites.incrementAndGet();
            throw new IOException("No space left on device");
        }
        if (src.remaining() > allowed) {
            int limit = src.limit();
            src.limit(src.position() + (int) allowed);
            try {
                int written = position < 0 ? delegate.write(src) : delegate.write(src, position);
                bytesBeforeFailure = allowed - written;
                writes.incrementAndGet();
                return written;
            } finally {
                src.limit(limit);
            }
        }
        int written = position < 0 ? delegate.write(src) : delegate.write(src, position);
        if (allowed != Long.MAX_VALUE) {
            bytesBeforeFailure = allowed - written;
        }
        writes.incrementAndGet();
        return written;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        if (failForce) {
            throw new IOException("Input/output error");
        }
        forces.incrementAndGet();
        delegate.force(metaData);
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        delegate.truncate(size);
        return this;
    }

    @Override
    public long size() throws IOException {
        return delegate.size();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return delegate.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return delegate.read(dsts, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        throw new UnsupportedOperationException("the log writes one buffer at a time");
    }

    @Override
    public long position() throws IOException {
        return delegate.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        delegate.position(newPosition);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return delegate.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        return delegate.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return delegate.read(dst, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return delegate.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return delegate.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return delegate.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        delegate.close();
    }
}
