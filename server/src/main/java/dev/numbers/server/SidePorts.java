package dev.numbers.server;

import dev.numbers.ops.CommandPort;
import dev.numbers.ops.Diagnostics;
import dev.numbers.ops.MetricsEndpoint;
import dev.numbers.ops.ServerStatus;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * The command port and the metrics endpoint of a run, as configured: each is opened (or not) and
 * pushed on the server's {@link ResourceStack}. They read a {@link ServerStatus} snapshot only.
 * The default command port taken is a warning, not a failure: several servers on one host (tests,
 * a second instance on another --port) must not need to know of it; a port asked for by name
 * must open.
 */
final class SidePorts {

    private final CommandPort commandPort;
    private final MetricsEndpoint metrics;

    private SidePorts(CommandPort commandPort, MetricsEndpoint metrics) {
        this.commandPort = commandPort;
        this.metrics = metrics;
    }

    static SidePorts open(ServerConfig config, Supplier<ServerStatus> status, ResourceStack resources) throws StartupException {
        CommandPort commandPort = null;
        if (config.adminPort() != 0) {
            InetSocketAddress address = Ports.address(config.adminAddress(), config.adminPort());
            try {
                commandPort = CommandPort.open(address, status, Threads.named("command-port"));
                resources.push("command port", commandPort::close);
            } catch (IOException e) {
                if (config.adminRequired()) {
                    throw new StartupException("cannot open command port " + config.adminPort() + ": " + Ports.describeFailure(e), e);
                }
                Diagnostics.warn("command port " + config.adminPort() + " not opened (" + Ports.describeFailure(e)
                        + "); running without it. Choose one with --admin-port, or 0 for none.");
            }
        }
        MetricsEndpoint metrics = null;
        if (config.metricsPort() != 0) {
            InetSocketAddress address = Ports.address(config.adminAddress(), config.metricsPort());
            try {
                metrics = MetricsEndpoint.open(address, status, Threads.named("metrics"));
                resources.push("metrics port", metrics::close);
            } catch (IOException e) {
                throw new StartupException("cannot open metrics port " + config.metricsPort() + ": " + Ports.describeFailure(e), e);
            }
        }
        return new SidePorts(commandPort, metrics);
    }

    /** The command port, or -1 when there is none. */
    int commandPort() {
        return commandPort == null ? -1 : commandPort.port();
    }

    /** For the "started" line: {@code admin-port=9999 metrics-port=off}. */
    String describe() {
        return "admin-port=" + (commandPort == null ? "off" : commandPort.port())
                + " metrics-port=" + (metrics == null ? "off" : metrics.port());
    }
}
