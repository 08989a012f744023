package dev.numbers.ops;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The command port (default 9999): a line protocol for asking the server what it is doing.
 * One reply line per command line:
 * <pre>
 *   WHO    the number of connected number clients
 *   WHERE  this run's UUID
 *   WHY    42
 *   STATS  unique_total=.. duplicates_total=.. clients=.. uptime_seconds=.. rate_per_second=..
 *   HELP   the commands
 *   other  ERROR ..., and the connection stays usable
 * </pre>
 * It cannot stop or change the server. It reads only counters (atomics), so it shares no lock
 * with the number path. Its input is bounded: a line longer than {@link #MAX_LINE_BYTES} or
 * with a byte that is not printable ASCII gets an {@code ERROR} and a close, as does a client
 * silent for {@link #IDLE_TIMEOUT_MS}; a client that stops reading its replies (so that a reply
 * cannot be written) is closed after twice as long. Up to {@link #MAX_CLIENTS} command clients at
 * once, each on a thread of its own; they do not count against the number clients.
 */
public final class CommandPort implements AutoCloseable {

    static final int MAX_LINE_BYTES = 256;
    static final int MAX_CLIENTS = 16;
    static final int IDLE_TIMEOUT_MS = 5 * 60 * 1000;
    static final String COMMANDS = "WHO WHERE WHY STATS HELP";
    private static final long IDLE_THREAD_SECONDS = 5;

    private final ServerSocket listener;
    private final Supplier<ServerStatus> status;
    private final int idleTimeoutMillis;
    private final ExecutorService threads;
    private final ScheduledExecutorService reaper;
    private final Semaphore slots = new Semaphore(MAX_CLIENTS);
    /** Each command client, with the {@link System#nanoTime} of its last reply (or arrival). */
    private final Map<Socket, Long> clients = new ConcurrentHashMap<>();
    private final Thread acceptor;

    private CommandPort(ServerSocket listener, Supplier<ServerStatus> status, int idleTimeoutMillis, ThreadFactory threads) {
        this.listener = listener;
        this.status = status;
        this.idleTimeoutMillis = idleTimeoutMillis;
        // A thread per command client (the semaphore bounds them), ended 5 s after its client.
        this.threads = new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_THREAD_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), threads);
        this.reaper = Executors.newSingleThreadScheduledExecutor(threads);
        long period = Math.max(10, idleTimeoutMillis / 4);
        reaper.scheduleWithFixedDelay(this::closeStuckClients, period, period, TimeUnit.MILLISECONDS);
        this.acceptor = threads.newThread(this::acceptLoop);
    }

    /** Opens the command port and starts serving it, with {@code threads}; it reports {@code status}. */
    public static CommandPort open(InetSocketAddress address, Supplier<ServerStatus> status, ThreadFactory threads)
            throws IOException {
        return open(address, status, threads, IDLE_TIMEOUT_MS);
    }

    /** As above, with another idle timeout (tests). */
    static CommandPort open(InetSocketAddress address, Supplier<ServerStatus> status, ThreadFactory threads,
                            int idleTimeoutMillis) throws IOException {
        ServerSocket listener = new ServerSocket();
        try {
            listener.bind(address, 16);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        CommandPort server = new CommandPort(listener, status, idleTimeoutMillis, threads);
        server.acceptor.start();
        return server;
    }

    /** Command clients connected now. */
    public int clientCount() {
        return clients.size();
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                if (!listener.isClosed()) {
                    Diagnostics.warn("command port: accept failed: " + Diagnostics.describe(e) + "; retrying in 100 ms");
                    pause(); // e.g. out of file descriptors: do not spin
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                reply(client, "ERROR too many command clients (" + MAX_CLIENTS + "); try again later");
                closeQuietly(client);
                continue;
            }
            clients.put(client, System.nanoTime());
            try {
                threads.execute(() -> {
                    try {
                        serve(client);
                    } finally {
                        end(client);
                    }
                });
            } catch (RejectedExecutionException e) {
                end(client); // closing: the pool takes no more
            }
        }
    }

    private void end(Socket client) {
        clients.remove(client);
        closeQuietly(client);
        slots.release();
    }

    /**
     * Closes the clients whose last reply is older than twice the idle timeout: a thread blocked
     * writing to a client that does not read. (A silent client's read times out first, and gets
     * its ERROR line.)
     */
    private void closeStuckClients() {
        long now = System.nanoTime();
        clients.forEach((client, lastReply) -> {
            if (now - lastReply > 2 * TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis)) {
                closeQuietly(client);
            }
        });
    }

    private void serve(Socket client) {
        try {
            client.setSoTimeout(idleTimeoutMillis);
            InputStream in = new BufferedInputStream(client.getInputStream(), MAX_LINE_BYTES);
            OutputStream out = client.getOutputStream();
            ByteArrayOutputStream line = new ByteArrayOutputStream(MAX_LINE_BYTES);
            for (int b; (b = in.read()) >= 0; ) {
                if (b == '\n') {
                    write(out, respond(command(line)));
                    clients.put(client, System.nanoTime());
                    line.reset();
                } else if (line.size() >= MAX_LINE_BYTES) {
                    write(out, "ERROR line longer than " + MAX_LINE_BYTES + " bytes; closing");
                    return;
                } else if ((b < 0x20 || b > 0x7E) && b != '\r') {
                    write(out, "ERROR not a text line (byte 0x" + Integer.toHexString(b) + "); closing");
                    return;
                } else {
                    line.write(b);
                }
            }
            if (line.size() > 0) { // a last command without its newline (printf WHO | nc host 9999)
                write(out, respond(command(line)));
            }
        } catch (SocketTimeoutException e) {
            reply(client, "ERROR idle for " + idleTimeoutMillis / 1000 + " s; closing");
        } catch (SocketException e) {
            // The client went away, or shutdown closed its socket: nothing to answer.
        } catch (IOException e) {
            Diagnostics.warn("command port: " + Diagnostics.describe(e));
        }
    }

    /** A command line's text, without the {@code \r} of a CRLF. */
    private static String command(ByteArrayOutputStream line) {
        String text = line.toString(StandardCharsets.US_ASCII);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
    }

    /** The reply to one command line, without its newline. */
    String respond(String command) {
        ServerStatus now = status.get();
        return switch (command) {
            case "WHO" -> Integer.toString(now.clientsConnected());
            case "WHERE" -> now.runId();
            case "WHY" -> "42";
            case "STATS" -> String.format(Locale.ROOT,
                    "unique_total=%d duplicates_total=%d clients=%d uptime_seconds=%d rate_per_second=%d",
                    now.uniqueTotal(), now.duplicateTotal(), now.clientsConnected(), now.uptimeSeconds(),
                    now.ratePerSecond());
            case "HELP" -> "commands: WHO (connected clients), WHERE (run id), WHY, STATS (counters), HELP";
            default -> "ERROR unknown command '" + command + "'; commands: " + COMMANDS;
        };
    }

    private static void write(OutputStream out, String reply) throws IOException {
        out.write((reply + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void reply(Socket client, String reply) {
        try {
            write(client.getOutputStream(), reply);
        } catch (IOException ignored) {
            // A last word to a client that is already gone: nothing else to do.
        }
    }

    /** Stops accepting and closes every command connection. */
    @Override
    public void close() {
        closeQuietly(listener);
        reaper.shutdownNow();
        for (Socket client : clients.keySet()) {
            closeQuietly(client);
        }
        threads.shutdown();
        try {
            acceptor.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // Closing a socket we are done with; a failure leaves nothing to clean up.
        }
    }
}
