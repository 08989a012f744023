/**
 * What operators see of a running server and may ask it: the diagnostics on stderr
 * ({@link dev.numbers.ops.Diagnostics}), the command port ({@link dev.numbers.ops.CommandPort}:
 * WHO, WHERE, WHY, STATS) and the Prometheus metrics ({@link dev.numbers.ops.MetricsEndpoint}).
 *
 * <p>The side ports read a {@link dev.numbers.ops.ServerStatus}, a snapshot of the counters that
 * the server supplies on request; they never see the server's own objects, so nothing they do
 * can take a lock or slow a thread on the number path. This package depends on no other of
 * the project's.
 *
 * <p>Each side port is one thread: a {@code SelectorLoop} accepts, reads and writes all of the
 * port's connections without blocking, so that slow or silent clients cost a socket each and
 * cannot hold up a request. Bytes flow from the loop to the port's {@code Protocol.Session} (a
 * {@code CommandSession} cuts lines and answers each; an {@code HttpSession} collects a request
 * head and answers it once), whose replies go back through its {@code Connection}, which the loop
 * writes as the client takes them. The loop enforces the port's {@code SidePortLimits}: how many
 * connections, how long idle, how long one request may take, and when a quiet connection may be
 * closed to make room for a new one.
 */
package dev.numbers.ops;
