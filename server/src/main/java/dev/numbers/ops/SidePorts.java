package dev.numbers.ops;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The command port and the metrics endpoint, served by one Netty event loop on one thread: a
 * slow or silent client costs a socket, never a thread, and holds up nobody's request. The ports
 * read only the {@link ServerStatus} snapshot they are given, never the server's own objects.
 *
 * <p>Bound with the JDK's sockets first ({@link #bindCommandPort}, {@link #bindMetrics}), at the
 * start's own step, so that a port in use fails the start there and then; {@link #start} then
 * brings Netty up on a thread of its own (its first use costs a quarter of a second, which the
 * server's {@code started} line does not wait for: connections meanwhile wait in the backlog).
 *
 * <p>Each connection's {@link Guard}, first in its pipeline, keeps the port's {@link Limits}: a
 * request (a command line, an HTTP head) must be whole within the deadline from its first byte;
 * a connection with nothing arriving for the idle time is closed; when the port is full, a new
 * connection closes the one quiet longest (if quiet long enough) or is refused. Each such close
 * sends a last word (an {@code ERROR} line, a 408 or a 503). A finished connection shuts its
 * output and drops what the client still sends for a while, so that the client reads the answer
 * rather than a reset. A client that does not take its replies is not read while 64 KiB of them
 * wait (Netty's write buffer mark), and is closed once they have not moved for the deadline.
 *
 * <p>Any thread; allocates per connection and per request, never on the number path.
 */
public final class SidePorts implements AutoCloseable {

    /**
     * One port's bounds.
     *
     * @param maxConnections      connections served at once
     * @param idleMillis          nothing arriving for this long closes a connection
     * @param deadlineMillis      a request must be whole this long after its first byte
     * @param evictableAfterMillis when full, a connection with no request completed for this long
     *                            is closed to make room for a new one
     */
    record Limits(int maxConnections, long idleMillis, long deadlineMillis, long evictableAfterMillis) {
    }

    /** Why a guard closes a connection its protocol did not finish. */
    enum Closing { IDLE, TOO_SLOW, REFUSED, EVICTED }

    /** The command port: 64 clients, a line within 10 s, 5 minutes of silence, room made after 1 s. */
    static final Limits COMMAND_LIMITS = new Limits(64, TimeUnit.MINUTES.toMillis(5), 10_000, 1_000);
    /** The metrics: 128 connections (well above one target's scrapers), a head within Prometheus' 10 s scrape timeout. */
    static final Limits METRICS_LIMITS = new Limits(128, 10_000, 10_000, 1_000);
    /** Connections the kernel queues on a side port until the loop accepts them. */
    static final int BACKLOG = 64;
    /** How long a finished connection drops what its client still sends before it closes. */
    static final long LINGER_MS = 2_000;
    private static final long ACCEPT_RETRY_MS = 1_000;
    /** Netty's loggers' parent, held: java.util.logging keeps loggers only weakly. */
    private static final Logger NETTY_LOG = Logger.getLogger("io.netty");

    /** Netty's settings, before any of its classes initialize; once per process, from {@link #start}'s thread. */
    private static synchronized void configureNetty() {
        if (NETTY_LOG.getHandlers().length > 0) {
            return;
        }
        setUnlessSet("io.netty.noUnsafe", "true"); // JDK 24 and later warn on stderr about sun.misc.Unsafe
        setUnlessSet("io.netty.allocator.type", "unpooled"); // a few kilobytes move here; a pool would keep megabytes
        Diagnostics.takeOver(NETTY_LOG, "netty");
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
    }

    /** A bound port and what it speaks. */
    record Port(String name, ServerSocketChannel socket, Limits limits, Function<Guard, ChannelHandler[]> protocol,
                        Function<Closing, Object> lastWord, Set<Guard> served) {
    }

    private final Supplier<ServerStatus> status;
    private final List<Port> ports = new ArrayList<>();
    private int commandPort = -1;
    private int metricsPort = -1;
    private Thread starting;
    private volatile EventLoopGroup loop;

    /** Side ports that report {@code status}; none is bound yet. */
    SidePorts(Supplier<ServerStatus> status) {
        this.status = status;
    }

    /**
     * Binds the command port at {@code command} and the metrics at {@code metrics} (either null:
     * none), and starts serving them, Netty coming up on a thread of its own. If the command port
     * is in use and not {@code commandRequired} (the default, not named), says so and goes
     * without: a second server on another --port needs no --admin-port. The loop's thread comes
     * from {@code threads}.
     *
     * @throws IOException if a port cannot be bound; its message names the port and why, in a
     *     few words ({@code cannot open metrics port 9912: address already in use})
     */
    public static SidePorts open(Supplier<ServerStatus> status, InetSocketAddress command, boolean commandRequired,
                                 InetSocketAddress metrics, ThreadFactory threads) throws IOException {
        SidePorts ports = new SidePorts(status);
        try {
            ports.commandPort = command == null ? -1 : ports.bindCommandPort(command, commandRequired);
            ports.metricsPort = metrics == null ? -1 : ports.bindMetrics(metrics);
        } catch (IOException | RuntimeException e) {
            ports.close();
            throw e;
        }
        ports.start(threads);
        return ports;
    }

    /**
     * Binds the command port (WHO, WHERE, WHY, STATS, HELP; see {@link CommandLines}). If the port
     * is in use and was not {@code required} (the default, not named), says so and goes without.
     *
     * @return the port bound; -1 if none
     * @throws IOException if it cannot be bound: {@code cannot open command port 9999: address already in use}
     */
    int bindCommandPort(InetSocketAddress address, boolean required) throws IOException {
        try {
            return bindCommandPort(address, COMMAND_LIMITS);
        } catch (IOException | UnsupportedAddressTypeException e) {
            if (required || !(e instanceof BindException)) {
                throw new IOException("cannot open command port " + address.getPort() + ": " + Diagnostics.describe(e), e);
            }
            Diagnostics.warn("command port " + address.getPort() + " not opened (" + Diagnostics.describe(e)
                    + "); running without it. Choose one with --admin-port, or 0 for none.");
            return -1;
        }
    }

    int bindCommandPort(InetSocketAddress address, Limits limits) throws IOException {
        return bind(new Port("command port", listen(address), limits, guard -> new ChannelHandler[] {new CommandLines(guard, status)},
                reason -> CommandLines.lastWord(reason, limits), ConcurrentHashMap.newKeySet()));
    }

    /**
     * Binds the Prometheus endpoint, {@code GET /metrics} (see {@link Metrics}).
     *
     * @return the port bound
     * @throws IOException if it cannot be bound: {@code cannot open metrics port 9912: address already in use}
     */
    int bindMetrics(InetSocketAddress address) throws IOException {
        try {
            return bindMetrics(address, METRICS_LIMITS, true);
        } catch (IOException | UnsupportedAddressTypeException e) {
            throw new IOException("cannot open metrics port " + address.getPort() + ": " + Diagnostics.describe(e), e);
        }
    }

    int bindMetrics(InetSocketAddress address, Limits limits, boolean jvmMetrics) throws IOException {
        Metrics metrics = new Metrics(status, jvmMetrics);
        return bind(new Port("metrics port", listen(address), limits, metrics::handlers, Metrics::lastWord,
                ConcurrentHashMap.newKeySet()));
    }

    private int bind(Port port) {
        ports.add(port);
        return port.socket().socket().getLocalPort();
    }

    /** A socket listening at {@code address}: IPv4 only for an IPv4 address, as the number port's. */
    private static ServerSocketChannel listen(InetSocketAddress address) throws IOException {
        ServerSocketChannel socket = address.getAddress() instanceof Inet4Address
                ? ServerSocketChannel.open(StandardProtocolFamily.INET) : ServerSocketChannel.open();
        try {
            return socket.bind(address, BACKLOG);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }


    /** Serves every port bound, on a loop thread from {@code threads}; Netty comes up on a thread of its own. */
    void start(ThreadFactory threads) {
        starting = new Thread(() -> {
            configureNetty();
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, threads, NioIoHandler.newFactory());
            ByteBufAllocator heap = new UnpooledByteBufAllocator(false);
            for (Port port : ports) {
                serve(group, heap, port);
            }
            loop = group;
        }, "side-ports-start");
        starting.setDaemon(true);
        starting.start();
    }

    private static void serve(EventLoopGroup group, ByteBufAllocator heap, Port port) {
        new ServerBootstrap().group(group)
                .channelFactory((ChannelFactory<ServerChannel>) () -> new NioServerSocketChannel(port.socket()))
                .option(ChannelOption.ALLOCATOR, heap)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) { // out of file descriptors, say
                        Diagnostics.warn(port.name() + ": accept failed: " + Diagnostics.describe(cause)
                                + "; retrying in " + ACCEPT_RETRY_MS + " ms");
                        ctx.channel().config().setAutoRead(false);
                        ctx.executor().schedule(() -> ctx.channel().config().setAutoRead(true), ACCEPT_RETRY_MS, TimeUnit.MILLISECONDS);
                    }
                })
                .childOption(ChannelOption.ALLOCATOR, heap)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true) // a client's end of stream may still get an answer
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        Guard guard = new Guard(port);
                        channel.pipeline().addLast(new IdleStateHandler(true, port.limits().idleMillis(),
                                port.limits().deadlineMillis(), 0, TimeUnit.MILLISECONDS), guard);
                        channel.pipeline().addLast(port.protocol().apply(guard));
                    }
                })
                .register().syncUninterruptibly();
    }

    /** The command port bound, or -1. */
    public int commandPort() {
        return commandPort;
    }

    /** The metrics port bound, or -1. */
    public int metricsPort() {
        return metricsPort;
    }

    /** Connections served now, on every port (not those on their way out). */
    int connectionCount() {
        return ports.stream().mapToInt(port -> port.served().size()).sum();
    }

    /** Stops accepting and closes every connection; when it returns, nothing is served. */
    @Override
    public void close() {
        if (starting != null) {
            try {
                starting.join(); // Netty may still be coming up
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        EventLoopGroup group = loop;
        if (group != null && !group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5_000)) {
            Diagnostics.warn("the side ports' thread did not stop within 5 s");
        }
        for (Port port : ports) {
            closeQuietly(port.socket()); // closed by the loop's stop already, unless it never started
        }
    }

    private static void closeQuietly(ServerSocketChannel socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // A listening socket that cannot be closed has nothing left to lose.
        }
    }

    private static void setUnlessSet(String name, String value) {
        if (System.getProperty(name) == null) {
            System.setProperty(name, value);
        }
    }

    /** Text for a client, as the pipeline writes it. */
    static ByteBuf ascii(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
    }
}
