package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What the server has opened, in the order it opened it; {@link #closeAll} closes it in reverse,
 * once, whether the server is stopping or failed to start. A close that fails is reported and
 * the rest are still closed. (Agrona's {@code CloseHelper}, with the order kept.)
 */
final class ResourceStack {

    /** Something to undo. */
    @FunctionalInterface
    interface Resource {
        void close() throws Exception;
    }

    private record Named(String name, Resource resource) {
    }

    private final Deque<Named> opened = new ArrayDeque<>();

    /** Records that {@code resource} is open; it will be closed before everything pushed earlier. */
    synchronized void push(String name, Resource resource) {
        opened.push(new Named(name, resource));
    }

    /** Closes everything, last opened first. Any thread; later calls find nothing left. */
    void closeAll() {
        while (true) {
            Named next;
            synchronized (this) {
                next = opened.poll();
            }
            if (next == null) {
                return;
            }
            try {
                next.resource().close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Diagnostics.warn("closing the " + next.name() + " was interrupted");
            } catch (Exception | Error e) { // an Error too: the rest must still be closed
                Diagnostics.warn("closing the " + next.name() + " failed: " + Diagnostics.describe(e));
            }
        }
    }
}
