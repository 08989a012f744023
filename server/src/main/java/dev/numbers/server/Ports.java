package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;

/** Binding the number port, and the words for ports and addresses in messages. */
final class Ports {

    /**
     * Connections the kernel holds for the acceptor: those that arrive while every slot is busy,
     * and a start's early clients, wait there. 4,096 lets a few thousand clients that reconnect
     * at once queue without a refused connection (Linux caps it at net.core.somaxconn, 4,096 by
     * default); beyond it the kernel drops the new connection's handshake, and the client's
     * connect retries it for a while before it fails.
     */
    static final int BACKLOG = 4_096;

    private Ports() {
    }

    /** Binds the number port and listens; nobody is accepted until the acceptor starts. */
    static ServerSocketChannel bindNumberPort(ServerConfig config) throws StartupException {
        ServerSocketChannel channel = null;
        try {
            channel = open(config.bindAddress());
            channel.bind(address(config.bindAddress(), config.port()), BACKLOG);
            return channel;
        } catch (IOException | UnsupportedAddressTypeException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // Never bound: nothing to release.
                }
            }
            throw new StartupException("cannot listen on port " + config.port() + " (" + describe(config.bindAddress())
                    + "): " + describeFailure(e), e);
        }
    }

    /**
     * A listening channel for {@code bind}: IPv4 only for an IPv4 address (0.0.0.0 included, which
     * on a dual-stack socket would take IPv6 clients too), else the platform's default (IPv4 and
     * IPv6 where the machine has both).
     */
    static ServerSocketChannel open(InetAddress bind) throws IOException {
        return bind instanceof Inet4Address ? ServerSocketChannel.open(StandardProtocolFamily.INET) : ServerSocketChannel.open();
    }

    /** For the {@code started} line: {@code 127.0.0.1}, {@code all interfaces (IPv4 and IPv6)}, {@code all IPv4 interfaces}. */
    static String describeBound(ServerSocketChannel channel) throws IOException {
        InetAddress local = ((InetSocketAddress) channel.getLocalAddress()).getAddress();
        if (!local.isAnyLocalAddress()) {
            return local.getHostAddress();
        }
        return local instanceof Inet6Address ? "all interfaces (IPv4 and IPv6)" : "all IPv4 interfaces";
    }

    static InetSocketAddress address(InetAddress host, int port) {
        return host == null ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    static String describe(InetAddress bind) {
        return bind == null ? "all interfaces" : bind.getHostAddress();
    }

    /** Why a bind failed, in a few words: {@code address already in use}. */
    static String describeFailure(Exception e) {
        if (e instanceof UnsupportedAddressTypeException) {
            return "this machine has no IPv6 (or the JVM runs IPv4 only), so it cannot listen on an IPv6 address";
        }
        return e instanceof BindException && "Address already in use".equals(e.getMessage())
                ? "address already in use" : Diagnostics.describe(e);
    }
}
