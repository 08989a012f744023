package dev.numbers.ops;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * One side port's event loop: a single thread accepts, reads and writes every connection of one
 * listening socket through a {@link Selector}, so that a slow or silent client costs a socket and
 * a buffer of a few hundred bytes, never a thread, and cannot hold up anyone else's request.
 *
 * <p>One loop per port, not one for both: the server opens, configures and closes the command port
 * and the metrics port separately (either may be off), each with its own thread factory; two
 * threads that sleep in {@code select} cost less than a shared loop's ownership rules.
 *
 * <p>Bounds, with {@link SidePortLimits}: at most {@code maxConnections} served at once. A new
 * connection beyond that closes the served connection that has completed no request for longest,
 * if that is at least {@code evictableAfterMillis}: a silent or dripping client must not lock
 * operators out, and a quiet one loses nothing it cannot ask again. Otherwise the newcomer gets
 * its refusal. Refused and finishing connections linger briefly (see {@link Connection}); past
 * twice the limit in all, a new connection is closed at once, unanswered. Each connection's
 * deadlines are checked on every turn; {@code select} sleeps until the nearest one.
 *
 * <p>Thread-safe: {@link #close} and {@link #connectionCount} may be called from any thread;
 * everything else runs on the loop's thread. Per request, the sessions allocate their replies;
 * the loop allocates only per connection.
 */
final class SelectorLoop implements AutoCloseable {

    /** Bytes read at a time: one read's replies stay small (at most 512 command lines). */
    static final int READ_BUFFER_BYTES = 1024;
    /** Connections the kernel may queue before the loop accepts them. */
    private static final int BACKLOG = 64;
    /** Pause after a failed accept (out of file descriptors, say), instead of spinning on it. */
    private static final long ACCEPT_RETRY_MS = 100;
    /** How long {@link #close} waits for the loop to close everything itself. */
    private static final long STOP_WAIT_MS = 1_000;

    /** An action on a connection that may find its client gone. */
    private interface ConnectionAction { void run() throws IOException; }

    private final String name;
    private final ServerSocketChannel listener;
    private final Selector selector;
    private final SelectionKey acceptKey;
    private final Protocol protocol;
    private final SidePortLimits limits;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final ByteBuffer scratch = ByteBuffer.allocate(READ_BUFFER_BYTES);
    private final Thread thread;
    private volatile boolean stopping;
    private boolean acceptPaused;
    private long acceptPausedNanos;

    private SelectorLoop(String name, ServerSocketChannel listener, Selector selector, Protocol protocol,
                         SidePortLimits limits, ThreadFactory threads) throws IOException {
        this.name = name;
        this.listener = listener;
        this.selector = selector;
        this.acceptKey = listener.register(selector, SelectionKey.OP_ACCEPT);
        this.protocol = protocol;
        this.limits = limits;
        this.thread = threads.newThread(this::run);
    }

    /**
     * Binds {@code address} and serves {@code protocol} on a thread from {@code threads}; {@code name}
     * ("command port") begins its diagnostics. Throws if it cannot bind, leaving nothing open.
     */
    static SelectorLoop open(String name, InetSocketAddress address, Protocol protocol, SidePortLimits limits,
                             ThreadFactory threads) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        Selector selector = null;
        try {
            listener.bind(address, BACKLOG);
            listener.configureBlocking(false);
            selector = Selector.open();
            SelectorLoop loop = new SelectorLoop(name, listener, selector, protocol, limits, threads);
            loop.thread.start();
            return loop;
        } catch (IOException | RuntimeException e) {
            closeQuietly(listener);
            if (selector != null) {
                closeQuietly(selector);
            }
            throw e;
        }
    }

    int port() {
        return listener.socket().getLocalPort();
    }

    /** Connections open now, served or on their way out. */
    int connectionCount() {
        return connections.size();
    }

    private void run() {
        try {
            while (!stopping) {
                long wait = checkDeadlines(System.nanoTime()); // 0 below: no deadline, sleep until an event
                selector.select(this::ready, wait == Long.MAX_VALUE ? 0 : TimeUnit.NANOSECONDS.toMillis(wait) + 1);
            }
        } catch (IOException e) {
            Diagnostics.error(name + " stopped: " + Diagnostics.describe(e));
        } catch (RuntimeException e) {
            if (!stopping) {
                Diagnostics.unexpected(name, e);
            }
        } finally {
            shutdown();
            closeQuietly(selector);
        }
    }

    /** Acts on what is overdue; returns the nanoseconds until the next deadline, or Long.MAX_VALUE. */
    private long checkDeadlines(long now) {
        long next = Long.MAX_VALUE;
        if (acceptPaused) {
            long left = acceptPausedNanos + TimeUnit.MILLISECONDS.toNanos(ACCEPT_RETRY_MS) - now;
            if (left <= 0) {
                acceptPaused = false;
                acceptKey.interestOps(SelectionKey.OP_ACCEPT);
            } else {
                next = left;
            }
        }
        for (Connection connection : connections) {
            guarded(connection, () -> {
                switch (connection.overdue(now, limits)) {
                    case OUTPUT_STUCK, LINGERED -> drop(connection);
                    case TOO_SLOW -> lastWord(connection, Protocol.Closing.TOO_SLOW, now);
                    case IDLE -> lastWord(connection, Protocol.Closing.IDLE, now);
                    case NOTHING -> { }
                }
            });
            if (connections.contains(connection)) {
                next = Math.min(next, connection.nanosToNextDeadline(now, limits));
            }
        }
        return next;
    }

    private void ready(SelectionKey key) {
        long now = System.nanoTime();
        if (key == acceptKey) {
            acceptAll(now);
        } else if (key.isValid() && key.attachment() instanceof Connection connection) {
            guarded(connection, () -> {
                if (key.isReadable()) {
                    connection.readable(scratch, now);
                }
                settle(connection, now);
            });
        }
    }

    private void acceptAll(long now) {
        while (!stopping) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (IOException e) {
                Diagnostics.warn(name + ": accept failed: " + Diagnostics.describe(e) + "; retrying in " + ACCEPT_RETRY_MS + " ms");
                acceptKey.interestOps(0);
                acceptPaused = true;
                acceptPausedNanos = now;
                return;
            }
            if (channel == null) {
                return;
            }
            admit(channel, now);
        }
    }

    /** Serves a new connection, making room for it, or refusing it, when the port is full. */
    private void admit(SocketChannel channel, long now) {
        Connection connection;
        try {
            channel.configureBlocking(false);
            SelectionKey key = channel.register(selector, 0);
            connection = new Connection(channel, key, now);
            key.attach(connection);
        } catch (IOException e) {
            Diagnostics.warn(name + ": cannot serve a new connection: " + Diagnostics.describe(e));
            closeQuietly(channel);
            return;
        }
        if (connections.size() >= 2 * limits.maxConnections()) {
            connection.closeNow(); // a flood: answering it would hold ever more sockets
            return;
        }
        long served = connections.stream().filter(c -> !c.finishing()).count();
        Connection quietest = served < limits.maxConnections() ? null : quietest(now);
        connections.add(connection);
        if (served >= limits.maxConnections()) {
            if (quietest == null) {
                guarded(connection, () -> lastWord(connection, Protocol.Closing.REFUSED, now));
                return;
            }
            guarded(quietest, () -> lastWord(quietest, Protocol.Closing.EVICTED, now));
        }
        guarded(connection, () -> {
            connection.serve(protocol.open(connection));
            settle(connection, now);
        });
    }

    /** The served connection quiet longest, if it has been quiet long enough to make room; or null. */
    private Connection quietest(long now) {
        Connection quietest = null;
        for (Connection candidate : connections) {
            if (!candidate.finishing()
                    && now - candidate.quietSinceNanos() >= TimeUnit.MILLISECONDS.toNanos(limits.evictableAfterMillis())
                    && (quietest == null || candidate.quietSinceNanos() - quietest.quietSinceNanos() < 0)) {
                quietest = candidate;
            }
        }
        return quietest;
    }

    private void lastWord(Connection connection, Protocol.Closing reason, long now) throws IOException {
        connection.send(protocol.lastWord(reason));
        connection.finish();
        settle(connection, now);
    }

    private void settle(Connection connection, long now) throws IOException {
        if (!connection.settle(now)) {
            drop(connection);
        }
    }

    /**
     * Runs {@code action} on {@code connection}; closes the connection if its client has gone, or
     * if the action fails (reported: a bug, or a status that could not be read), and goes on.
     */
    private void guarded(Connection connection, ConnectionAction action) {
        try {
            action.run();
        } catch (IOException clientGone) {
            drop(connection); // a reset or broken pipe: the client left, nothing to answer or report
        } catch (RuntimeException e) {
            drop(connection);
            if (!stopping) {
                Diagnostics.unexpected(name + " connection", e);
            }
        }
    }

    private void drop(Connection connection) {
        connections.remove(connection);
        connection.closeNow();
    }

    /** Stops accepting first, then closes every connection. Either thread; idempotent. */
    private void shutdown() {
        closeQuietly(listener);
        connections.forEach(this::drop);
    }

    /**
     * Stops accepting, then closes every connection; when it returns, nothing is served. Waits
     * for the loop to do it; a loop stuck in a session has its sockets closed from here.
     */
    @Override
    public void close() {
        stopping = true;
        selector.wakeup();
        try {
            thread.join(STOP_WAIT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            Diagnostics.warn(name + ": its thread did not stop within " + STOP_WAIT_MS + " ms; closing its sockets from here");
            shutdown();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // Closing what we are done with; a failure leaves nothing to clean up.
        }
    }
}
