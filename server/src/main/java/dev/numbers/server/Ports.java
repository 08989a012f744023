package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/** Binding the number port, and the words for ports and addresses in messages. */
final class Ports {

    /** Connections the kernel holds for the acceptor: a start's early clients wait there. */
    private static final int BACKLOG = 128;

    private Ports() {
    }

    /** Binds the number port and listens; nobody is accepted until the acceptor starts. */
    static ServerSocketChannel bindNumberPort(ServerConfig config) throws StartupException {
        ServerSocketChannel channel = null;
        try {
            channel = ServerSocketChannel.open();
            channel.bind(address(config.bindAddress(), config.port()), BACKLOG);
            return channel;
        } catch (IOException e) {
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

    static InetSocketAddress address(InetAddress host, int port) {
        return host == null ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    static String describe(InetAddress bind) {
        return bind == null ? "all interfaces" : bind.getHostAddress();
    }

    static String describeFailure(IOException e) {
        return e instanceof BindException && "Address already in use".equals(e.getMessage())
                ? "address already in use" : Diagnostics.describe(e);
    }
}
