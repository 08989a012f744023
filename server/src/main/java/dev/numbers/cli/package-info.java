/**
 * The command line: {@link dev.numbers.cli.Main} turns options into a
 * {@link dev.numbers.server.ServerConfig}, starts the server, routes SIGINT, SIGTERM and SIGHUP to
 * its clean shutdown and SIGUSR1 to the log's reopening ({@code Signals}), and returns an
 * {@link dev.numbers.cli.ExitStatus}. The options, their defaults and ranges are written here
 * once (picocli prints them in {@code --help}); every bad value is one line on stderr and exit
 * status 2.
 */
package dev.numbers.cli;
