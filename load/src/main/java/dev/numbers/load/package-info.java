/**
 * The load generator ({@code numbers-server load}): a {@link dev.numbers.load.LoadGenerator.Plan}
 * becomes a {@code Workload} (every client's lines, generated before the clock starts), a
 * {@code LoadRun} sends it, one thread and connection per client (with churn, a new connection
 * every N numbers), and times it end to end: each client hands every connection it has written
 * to the {@code CloseWatcher}, one selector on the run's thread, which stops the clock when the
 * server has closed them all; {@code LogVerifier} then checks the server's log against what was
 * sent. Each long phase has a {@code Progress} line on stderr; the summary and the verdict go to
 * stdout. {@link dev.numbers.load.LoadCommand} is the command line that makes the plan. {@link
 * dev.numbers.load.Sink} is the null server that measures the machine's ceiling, stopped by its
 * caller (the command line's shutdown hook, on SIGINT and SIGTERM). It is a module of its own and
 * shares no code with the server, so that it cannot share its mistakes.
 */
package dev.numbers.load;
