package dev.numbers.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

/**
 * The server's large allocations, and its file descriptors, made or checked first at startup so that a JVM too small for them fails
 * before anything outside the process (the port, the log) is touched, with a line that says what
 * to change. With the launcher's JVM options about 300 slots fit: direct memory, by default as
 * large as the heap (160 MB), runs out first.
 */
final class Memory {

    /** File descriptors a side port may use at once beyond its clients' (its listener, its selector's). */
    static final int SIDE_PORT_FILES = 8;
    /** File descriptors for the rest: the log's directory while it is forced, a reopened log, the JDK's own. */
    static final int SPARE_FILES = 8;

    /** Heap the start and the run need beyond the set and the slots' buffers (measured: about 3 MB with 5 slots). */
    static final long HEADROOM_BYTES = 8L << 20;
    /** And per slot: its thread and its session. */
    static final long HEADROOM_BYTES_PER_SLOT = 8L << 10;

    private Memory() {
    }

    /**
     * Checks that the process may open the file descriptors a run needs: those open now, the
     * number port, the log, one per client slot, {@link #SIDE_PORT_FILES} per side port and
     * {@link #SPARE_FILES} more. Without them the start would fail somewhere inside the JDK (as
     * it did with {@code ulimit -n 12}: a trace of 31 lines). Where the platform cannot say
     * (no /proc), nothing is checked.
     */
    static void checkFileDescriptors(ServerConfig config) throws StartupException {
        long limit = openFilesLimit();
        long open;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            open = fds.count() - 1; // the listing's own
        } catch (IOException | UncheckedIOException e) {
            return;
        }
        int sidePorts = (config.adminPort() != 0 ? 1 : 0) + (config.metricsPort() != 0 ? 1 : 0);
        long needed = 2 + config.maxClients() + (long) sidePorts * SIDE_PORT_FILES + SPARE_FILES;
        if (limit >= 0 && open + needed > limit) {
            throw new StartupException("too few file descriptors: the limit is " + limit + " and " + open
                    + " are open; the server needs " + needed + " more for " + config.maxClients()
                    + " client slots (raise the limit, ulimit -n, or use a smaller --max-clients)");
        }
    }

    /** The soft limit on open files, from /proc/self/limits; -1 where it cannot be read or is unlimited. */
    private static long openFilesLimit() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/limits"))) {
            return lines.filter(line -> line.startsWith("Max open files"))
                    .map(line -> line.substring("Max open files".length()).trim().split("\\s+")[0])
                    .filter(soft -> soft.chars().allMatch(Character::isDigit))
                    .mapToLong(Long::parseLong).findFirst().orElse(-1);
        } catch (IOException | UncheckedIOException e) {
            return -1;
        }
    }

    /**
     * Checks that, with the set and the slots' buffers allocated, the heap still has room for the
     * rest of the start (threads, timers, the side ports) and for running: a heap filled to the
     * last megabyte would fail later, with the log already emptied. Needs {@link #HEADROOM_BYTES}
     * free, plus {@link #HEADROOM_BYTES_PER_SLOT} a slot. It collects first (a few milliseconds:
     * the set is one object), so that the free heap it reads is free, not garbage; allocating the
     * room to prove it would touch, and so add to the resident memory, 8 MB that may never be used.
     */
    static void checkHeadroom(int slots) throws StartupException {
        System.gc();
        Runtime heap = Runtime.getRuntime();
        long free = heap.maxMemory() - heap.totalMemory() + heap.freeMemory();
        long needed = HEADROOM_BYTES + slots * HEADROOM_BYTES_PER_SLOT;
        if (free < needed) {
            throw new StartupException("not enough memory for " + slots + " client slots and the rest of the server ("
                    + (free >> 20) + " MB of heap left after the set and the slots, " + (needed >> 20) + " MB needed): "
                    + "use a smaller --max-clients, or give the JVM a larger heap (-Xmx)");
        }
    }

    /** The 125 MB set of seen numbers. */
    static SeenNumbers seenNumbers() throws StartupException {
        try {
            return new SeenNumbers();
        } catch (OutOfMemoryError e) {
            throw new StartupException("not enough memory for the 125 MB set of seen numbers: "
                    + "give the JVM a larger heap, for example -Xmx256m", e);
        }
    }

    /** Every slot's buffers: {@link SessionBuffers#DIRECT_BYTES} of direct memory each, and some heap. */
    static SessionBuffers[] sessionBuffers(int slots, int lineBytes) throws StartupException {
        SessionBuffers[] buffers = new SessionBuffers[slots];
        try {
            for (int slot = 0; slot < slots; slot++) {
                buffers[slot] = new SessionBuffers(lineBytes);
            }
            return buffers;
        } catch (OutOfMemoryError e) {
            Arrays.fill(buffers, null); // free what was had, so that saying why has the memory to do it
            long directMb = slots * SessionBuffers.DIRECT_BYTES >> 20;
            long heapMb = slots * SessionBuffers.HEAP_BYTES >> 20;
            throw new StartupException("not enough memory for " + slots + " client slots (" + directMb
                    + " MB of direct memory and " + heapMb + " MB of heap): use a smaller --max-clients, or give the JVM "
                    + "more (-XX:MaxDirectMemorySize, -Xmx)", e);
        }
    }
}
