#!/usr/bin/env python3
"""Start to 'started': how long a server jar takes from exec to its 'started' line on stderr.

    python3 bench/startup.py [--java JAVA] [--rounds 10] JAR [JAR ...]

Each round starts every jar once in each of three configurations, taking turns (A B A B ...):
    none              --admin-port 0: no side port
    command           the command port on (the default)
    command+metrics   the command port and /metrics
Every start runs `JAVA @jvm/server.options -jar JAR --bind 127.0.0.1 --port 0` with a log in a
fresh temporary directory (side ports on ports the OS just handed out), waits for the 'started'
line, then stops the server with SIGTERM. Prints the median, min and max per jar and
configuration. The time includes the JVM's own start and the JIT warm-up the server runs before it
opens its port; the machine is shared, so only medians of interleaved rounds mean anything.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

OPTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "jvm", "server.options")
CONFIGS = {
    "none": ["--admin-port", "0"],
    "command": ["--admin-port", "{free}"],
    "command+metrics": ["--admin-port", "{free}", "--metrics-port", "{free}"],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def once(java, jar, extra):
    """Seconds from exec to the 'started' line; None if the server exited without one."""
    work = tempfile.mkdtemp(prefix="startup-")
    try:
        args = [java, "@" + OPTIONS, "-jar", jar, "--bind", "127.0.0.1", "--port", "0",
                "--log", os.path.join(work, "numbers.log")]
        args += [free_port() if a == "{free}" else a for a in extra]
        start = time.monotonic()
        server = subprocess.Popen([str(a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        took = None
        for line in server.stderr:
            if "started port=" in line:
                took = time.monotonic() - start
                break
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
        return took
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--java", default="java")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("jars", nargs="+")
    args = ap.parse_args()
    results = {}
    for _ in range(args.rounds):
        for config, extra in CONFIGS.items():
            for jar in args.jars:
                results.setdefault((jar, config), []).append(once(args.java, jar, extra))
    version = subprocess.run([args.java, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    print("# startup.py --rounds %d; %s; %s" % (args.rounds, version, time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())))
    for (jar, config), times in results.items():
        ok = [t for t in times if t is not None]
        failed = len(times) - len(ok)
        if not ok:
            print("%-32s %-16s FAILED (no 'started' line), n=%d" % (os.path.basename(jar), config, failed))
            continue
        print("%-32s %-16s median %.3f s  (min %.3f, max %.3f, n=%d%s)" % (
            os.path.basename(jar), config, statistics.median(ok), min(ok), max(ok), len(ok),
            ", %d failed" % failed if failed else ""))


if __name__ == "__main__":
    main()
