package dev.numbers.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

/**
 * One client slot's working memory, allocated once when the server starts so that serving a
 * connection allocates nothing: the bytes read, the numbers decoded from them, which of those
 * were new, and the log lines of the new ones. Used by one thread at a time. {@link #allocate}
 * makes every slot's, first, and checks that the process has room for them (heap, direct
 * memory, file descriptors).
 */
final class SessionBuffers {

    /**
     * Bytes per read: 26,214 lines. Measured end to end, interleaved: 256 KiB did the
     * unique-heavy workload about 25% faster than 64 KiB (fewer batches to lock and write) and
     * no slower than 1 MiB, which costs 10 MB more RSS; duplicate-heavy was the same for all.
     */
    static final int READ_BUFFER_BYTES = 256 * 1024;

    /** Direct memory one slot takes: the read buffer and the log-line buffer. */
    static final long DIRECT_BYTES = 2L * LineDecoder.bufferCapacity(READ_BUFFER_BYTES);

    /** Heap one slot takes (close enough: the two arrays, for the shortest line). */
    static final long HEAP_BYTES = (READ_BUFFER_BYTES / LineDecoder.MIN_LINE_BYTES + 1) * (Integer.BYTES + 1L);

    /** File descriptors a side port may use at once beyond its clients' (its listener, its event loop's). */
    static final int SIDE_PORT_FILES = 8;
    /** File descriptors for the rest: the log's directory while it is forced, a reopened log, the JDK's own. */
    static final int SPARE_FILES = 8;

    /** Heap the start and the run need beyond the set and the slots' buffers (measured: about 3 MB with 5 slots). */
    static final long HEADROOM_BYTES = 8L << 20;
    /** And per slot: its thread and its session. */
    static final long HEADROOM_BYTES_PER_SLOT = 8L << 10;

    /** The bytes read from the connection, a partial line carried over from the last read first. */
    final ByteBuffer in = LineDecoder.allocateBuffer(READ_BUFFER_BYTES);
    /** The log lines of the batch's new numbers, as {@link ClientSession#appendNew} writes them. */
    final ByteBuffer out = LineDecoder.allocateBuffer(READ_BUFFER_BYTES);
    /** The numbers of the batch's whole lines, in order. */
    final int[] numbers;
    /** For each of {@link #numbers}: new to the run (this batch won it), or a duplicate. */
    final boolean[] isNew;

    /** @param lineBytes bytes in one number line, separator included */
    SessionBuffers(int lineBytes) {
        this.numbers = new int[READ_BUFFER_BYTES / lineBytes + 1];
        this.isNew = new boolean[numbers.length];
    }

    /**
     * Every slot's buffers, allocated first at startup, before anything outside the process (the
     * ports, the log) is touched: a JVM too small for them, or a process with too few file
     * descriptors, fails here with a line that says what to change, and the old log intact.
     * With the launcher's JVM options about 230 slots fit: the heap runs out first.
     */
    static SessionBuffers[] allocate(ServerConfig config, int lineBytes) throws StartupException {
        checkFileDescriptors(config);
        int slots = config.maxClients();
        SessionBuffers[] buffers = new SessionBuffers[slots];
        try {
            for (int slot = 0; slot < slots; slot++) {
                buffers[slot] = new SessionBuffers(lineBytes);
            }
        } catch (OutOfMemoryError e) {
            Arrays.fill(buffers, null); // free what was had, so that saying why has the memory to do it
            throw new StartupException("not enough memory for " + slots + " client slots (" + (slots * DIRECT_BYTES >> 20)
                    + " MB of direct memory and " + (slots * HEAP_BYTES >> 20) + " MB of heap): use a smaller --max-clients, "
                    + "or give the JVM more (-XX:MaxDirectMemorySize, -Xmx)", e);
        }
        checkHeadroom(slots);
        return buffers;
    }

    /**
     * Checks that the process may open the file descriptors a run needs: those open now, the
     * number port, the log, one per client slot, {@link #SIDE_PORT_FILES} per side port and
     * {@link #SPARE_FILES} more. Without them the start would fail somewhere inside the JDK (as
     * it did with {@code ulimit -n 12}: a trace of 31 lines). Where the platform cannot say
     * (no /proc), nothing is checked.
     */
    private static void checkFileDescriptors(ServerConfig config) throws StartupException {
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
    private static void checkHeadroom(int slots) throws StartupException {
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
}
