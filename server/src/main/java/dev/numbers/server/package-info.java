/**
 * The number server: the number port's clients, the hot path, the log, and the lifecycle.
 *
 * <p>How a number flows, one read batch at a time, with no allocation, lock or {@code String} per
 * number:
 * <pre>
 *   ClientSlots       accepts a connection, hands it to a free ClientSession (or closes it: no slot)
 *   ClientSession     one thread per slot: a blocking read of up to 256 KiB into its SessionBuffers
 *     LineDecoder     every whole line of the read to an int, two 64-bit loads per line (SWAR)
 *     NumberStore     shared by all sessions, once per batch:
 *       SeenNumbers     the 10^9-bit set: which numbers of the batch are new (exactly one winner)
 *       LogFormat       the new numbers' lines, copied from the input (stripped or padded)
 *       NumberLog       one append of those lines, under one lock; fsync by policy
 *       Stats           the batch counted once it is in the log
 *     BatchesInFlight a closing connection waits for other clients' batches still being written
 * </pre>
 * {@link dev.numbers.server.NumberServer} opens all this in order (memory, the port, the log, the
 * side ports, the threads) and closes it in reverse; {@code StatsReporter} prints the report and
 * {@code ClientSlots} runs the idle watchdog on timers of their own. The log is split by job:
 * {@code LogFile} opens it, {@code LogAppender} writes whole lines, {@code LogSync} forces them
 * to disk, {@code DiskTrouble} retries a failing disk.
 *
 * <p>Public: what the command line needs ({@code NumberServer}, {@code ServerConfig},
 * {@code LogFormat}, {@code FsyncPolicy}, {@code StartupException}); the rest is package-private.
 * The server depends on {@link dev.numbers.ops} for its diagnostics and side ports, on nothing
 * else here.
 */
package dev.numbers.server;
