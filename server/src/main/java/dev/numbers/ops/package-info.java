/**
 * What operators see of a running server and may ask it: the diagnostics on stderr
 * ({@link dev.numbers.ops.Diagnostics}), the command port ({@link dev.numbers.ops.CommandPort}:
 * WHO, WHERE, WHY, STATS) and the Prometheus metrics ({@link dev.numbers.ops.MetricsEndpoint}).
 *
 * <p>The side ports read a {@link dev.numbers.ops.ServerStatus}, a snapshot of the counters that
 * the server supplies on request; they never see the server's own objects, so nothing they do
 * can take a lock or slow a thread on the number path. This package depends on no other of
 * the project's.
 */
package dev.numbers.ops;
