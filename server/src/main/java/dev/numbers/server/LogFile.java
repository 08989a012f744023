package dev.numbers.server;

import dev.numbers.ops.Diagnostics;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The log file, opened for a run: created, or truncated and made durable, and locked for as long
 * as it is open, so that a second server pointed at the same file fails to open it instead of
 * emptying the first one's log under it.
 *
 * <p>A path that is not a regular file ({@code /dev/null}, a FIFO) is opened as a stream: written
 * in order, never truncated, locked or forced. Opening a FIFO for writing waits until a reader
 * opens it; that is said on stderr first, and {@link #releaseFifoWait} ends the wait.
 *
 * @param path    the path, as configured
 * @param channel open for writing
 * @param regular a regular file (positional writes, truncation and fsync work), or a stream
 */
record LogFile(Path path, FileChannel channel, boolean regular) {

    /** The {@code unix:mode} file-type bits of a FIFO (S_IFIFO of {@code stat(2)}). */
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    /**
     * Opens the log at {@code path}.
     *
     * @throws IOException if it cannot be created, locked or truncated (the message names why)
     */
    static LogFile open(Path path) throws IOException {
        if (isFifo(path)) {
            Diagnostics.info("the log " + path + " is a FIFO: waiting for a reader to open it (SIGINT or SIGTERM ends the wait)");
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            if (!Files.isRegularFile(path)) {
                Diagnostics.info("the log " + path + " is not a regular file: it is written in order, never forced to disk");
                return new LogFile(path, channel, false);
            }
            lock(path, channel);
            channel.truncate(0);
            channel.force(true);
            forceDirectory(path.toAbsolutePath().getParent());
            return new LogFile(path, channel, true);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** True if {@code path} is a FIFO (named pipe). False where the platform cannot say (not POSIX). */
    static boolean isFifo(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & S_IFMT) == S_IFIFO;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return false; // no such file yet, or no unix attributes here: not a FIFO we could wait on
        }
    }

    /**
     * Ends a wait in {@link #open} for a reader of the FIFO at {@code path}: opens it for reading
     * on a thread of its own and closes it at once, which lets the writer's open return. Used when
     * the server is asked to stop while it waits.
     */
    static void releaseFifoWait(Path path) {
        Thread releaser = new Thread(() -> {
            try {
                FileChannel.open(path, StandardOpenOption.READ).close(); // the waiting writer's open returns too
            } catch (IOException ignored) {
                // The FIFO is gone: then the writer is not waiting on it either.
            }
        }, "log-fifo-release");
        releaser.setDaemon(true);
        releaser.start();
    }

    private static void lock(Path path, FileChannel channel) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this JVM: another server in the same process
        }
        if (lock == null) {
            throw new FileSystemException(path.toString(), null, "in use: locked by another process (another numbers-server?)");
        }
    }

    /** Makes a new directory entry durable: on Linux a directory can be opened and forced. */
    private static void forceDirectory(Path directory) {
        if (directory == null) {
            return;
        }
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // Not every platform can open a directory (Windows cannot); the file itself is forced.
        }
    }
}
