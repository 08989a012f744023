package dev.numbers.server;

/**
 * The server's large allocations, made first at startup so that a JVM too small for them fails
 * before anything outside the process (the port, the log) is touched, with a line that says what
 * to change. With the launcher's JVM options about 300 slots fit: direct memory, by default as
 * large as the heap (160 MB), runs out first.
 */
final class Memory {

    private Memory() {
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
            long directMb = slots * SessionBuffers.DIRECT_BYTES >> 20;
            long heapMb = slots * SessionBuffers.HEAP_BYTES >> 20;
            throw new StartupException("not enough memory for " + slots + " client slots (" + directMb
                    + " MB of direct memory and " + heapMb + " MB of heap): use a smaller --max-clients, or give the JVM "
                    + "more (-XX:MaxDirectMemorySize, -Xmx)", e);
        }
    }
}
