#!/usr/bin/env python3
"""How often a kill -9 under load leaves a torn last line in numbers.log.

    bench/kill9.py [--runs 60] [--jar NAME=PATH ...] [--format stripped|padded] [--port 4620]

Each run starts a fresh server (jvm/server.options, the log in a fresh directory), loads it with
4 clients of unique-heavy numbers (range 10^9: it writes all the time), kills it with SIGKILL at
a random moment between 1 and 3 s into the load, and looks at the log: torn if its last byte is
not the newline, and invalid if any complete line is not a number (which must never happen).
With several --jar (server jars), the runs are interleaved; the load generator is always the
built load/target/numbers-load.jar. Prints the counts per jar.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVER_OPTIONS = "@" + os.path.join(ROOT, "jvm", "server.options")
LOAD_OPTIONS = "@" + os.path.join(ROOT, "jvm", "load.options")
DEFAULT_JAR = os.path.join(ROOT, "server", "target", "numbers-server.jar")
LOAD_JAR = os.path.join(ROOT, "load", "target", "numbers-load.jar")


def listening(port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def check(log):
    """(torn, invalid lines, lines) for the log's bytes."""
    with open(log, "rb") as f:
        data = f.read()
    if not data:
        return False, 0, 0
    torn = not data.endswith(b"\n")
    lines = data.split(b"\n")
    complete = lines[:-1]  # the last element is the partial line, or empty
    invalid = sum(1 for l in complete if not l.isdigit() or len(l) > 9)
    return torn, invalid, len(complete)


def one_run(jar, port, log_format):
    work = tempfile.mkdtemp(prefix="kill9-")
    server = subprocess.Popen(["java", SERVER_OPTIONS, "-jar", jar, "--port", str(port), "--admin-port", "0",
                               "--log-format", log_format], cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    load = None
    try:
        if not listening(port, server):
            return None
        load = subprocess.Popen(["java", LOAD_OPTIONS, "-jar", LOAD_JAR, "--port", str(port), "--clients", "4",
                                 "--count", "2000000", "--duration", "60s", "--seed", str(random.randrange(1000)),
                                 "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = os.path.join(work, "numbers.log")
        started = time.monotonic()
        while (not os.path.exists(log) or os.path.getsize(log) == 0) and time.monotonic() - started < 30:
            time.sleep(0.01)  # the load generator's own start: wait for the first write
        time.sleep(random.uniform(1.0, 3.0))
        server.send_signal(signal.SIGKILL)
        server.wait()
        return check(log)
    finally:
        for process in (load, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--jar", action="append", help="NAME=PATH of a server jar; default: the built one")
    parser.add_argument("--format", default="stripped", choices=["stripped", "padded"])
    parser.add_argument("--port", type=int, default=4620)
    args = parser.parse_args()
    if not os.path.exists(LOAD_JAR):
        sys.exit("no %s: build it first (./mvnw -pl server,load -am package -DskipTests)" % LOAD_JAR)
    jars = [j.split("=", 1) for j in args.jar] if args.jar else [["numbers-server", DEFAULT_JAR]]
    counts = {name: [0, 0, 0, 0] for name, _ in jars}  # runs, torn, runs with invalid lines, failed
    for run in range(args.runs):
        for name, jar in jars:
            result = one_run(jar, args.port, args.format)
            tally = counts[name]
            if result is None:
                tally[3] += 1
                continue
            torn, invalid, lines = result
            tally[0] += 1
            tally[1] += torn
            tally[2] += invalid > 0
            print("run %2d %-12s %s, %d lines%s" % (run + 1, name, "TORN" if torn else "whole", lines,
                  ", %d INVALID" % invalid if invalid else ""), file=sys.stderr, flush=True)
    print("kill -9 under a unique-heavy load, --log-format %s, %s" % (args.format, time.strftime("%Y-%m-%d")))
    for name, (runs, torn, invalid, failed) in counts.items():
        print("%-14s torn last line %d of %d runs; runs with an invalid complete line: %d%s" % (
            name, torn, runs, invalid, "; %d runs failed to start" % failed if failed else ""))


if __name__ == "__main__":
    main()
