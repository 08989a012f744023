/**
 * What operators see of a running server and may ask it: the diagnostics on stderr
 * ({@link dev.numbers.ops.Diagnostics}: never blocking, a bounded queue and one writer thread),
 * and the side ports ({@link dev.numbers.ops.SidePorts}): the command port ({@code CommandLines}:
 * WHO, WHERE, WHY, STATS, HELP) and the Prometheus metrics ({@code Metrics}, on the Prometheus
 * Java client).
 *
 * <p>The side ports read a {@link dev.numbers.ops.ServerStatus}, a snapshot of the counters that
 * the server supplies on request; they never see the server's own objects, so nothing they do
 * can take a lock or slow a thread on the number path. This package depends on no other of the
 * project's.
 *
 * <p>Both side ports run on one Netty event loop, one thread: bytes arrive at each connection's
 * {@code Guard} (its bounds: deadlines, idle time, room made when the port is full, the last word
 * and the linger), then go to the port's protocol: {@code CommandLines} cuts lines and answers
 * each; Netty's {@code HttpServerCodec} parses a request head, which {@code Metrics} answers once.
 */
package dev.numbers.ops;
