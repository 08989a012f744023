package dev.numbers.ops;

/**
 * What the command port and the metrics may know of the server: a snapshot of its counters,
 * taken when a request asks for it. The side ports get a supplier of these, never the server's
 * own objects, so that nothing they do can reach the number path.
 *
 * @param runId            this run's UUID
 * @param uptimeSeconds    seconds since the server started
 * @param clientsConnected number clients connected now
 * @param uniqueTotal      valid numbers received that were new to the run (stored in the log)
 * @param duplicateTotal   valid numbers received that had been seen before
 * @param ratePerSecond    numbers received (unique and duplicate) in the last whole second
 * @param invalidClosed    connections closed for invalid input
 * @param logBytes         bytes of whole lines appended to the log
 * @param fsyncs           forces of the log to disk
 * @param fsyncNanos       time spent in them
 * @param logFailing       a write or fsync of the log is failing and being retried
 */
public record ServerStatus(
        String runId,
        long uptimeSeconds,
        int clientsConnected,
        long uniqueTotal,
        long duplicateTotal,
        long ratePerSecond,
        long invalidClosed,
        long logBytes,
        long fsyncs,
        long fsyncNanos,
        boolean logFailing) {
}
