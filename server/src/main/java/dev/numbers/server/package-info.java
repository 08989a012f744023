/**
 * The number server: the number port's clients, the hot path, the log, and the lifecycle.
 *
 * <p>How a number flows, one read batch at a time, with no allocation, lock or {@code String} per
 * number, through five files:
 * <pre>
 *   ClientSession     one thread per slot: a blocking read of up to 256 KiB into its SessionBuffers,
 *                     then, once per batch:
 *     LineDecoder       every whole line of the read to an int, two 64-bit loads per line (SWAR)
 *     SeenNumbers       the 10^9-bit set: which numbers of the batch are new (exactly one winner)
 *                       the new numbers' log lines, copied from the input (appendNew)
 *     NumberLog         one append of those lines, under one lock (LogFile: the file); fsync by policy
 *                       the batch counted in Stats once it is in the log
 * </pre>
 * {@code ClientSlots} accepts a connection only into a free slot (the others wait in the kernel's
 * backlog) and runs the idle watchdog; {@code BatchesInFlight} makes a closing connection wait for
 * other clients' batches still being written. {@link dev.numbers.server.NumberServer} opens all
 * this in order (memory, the number port, the side ports, the log, the threads) and closes it in
 * reverse ({@code ResourceStack}); {@code StatsReporter} prints the report on a timer of its own.
 * The log is three classes, one concept each: {@code NumberLog} (the log over a run: the fsync
 * policy, retries, rotation), {@code LogFile} (one open file: append mode, whole lines, group
 * commit), {@code DiskTrouble} (a failing disk retried, said once).
 *
 * <p>Public: what the command line needs ({@code NumberServer}, {@code ServerConfig},
 * {@code LogFormat}, {@code FsyncPolicy}, {@code StartupException}); the rest is package-private.
 * The server depends on {@link dev.numbers.ops} for its diagnostics and side ports, on nothing
 * else here.
 */
package dev.numbers.server;
