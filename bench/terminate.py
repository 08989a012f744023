#!/usr/bin/env python3
"""Time from a client's `terminate` to the server's exit, under load.

    bench/terminate.py [--runs 30] [--jdk PATH ...] [--load-seconds 2] [--port 4610]

For each JDK, each set of JVM options (the launcher's, jvm/server.options, and none at all, as
`java -jar` runs it), and each machine state (idle, and with a CPU hog spinning on one core), it
runs the server RUNS times in a fresh directory: 4 clients of the load generator send
unique-heavy numbers (range 10^9, the most the log has to write and force) for LOAD_SECONDS,
then a fifth connection sends `terminate`, and the clock runs from that write until the server
process has exited (waitpid). Prints the median, the 90th percentile and the worst per variant,
and checks every exit status is 0.

Needs the jars (./mvnw -pl server,load -am package -DskipTests) and port PORT free.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JAR = os.path.join(ROOT, "server", "target", "numbers-server.jar")
LOAD_JAR = os.path.join(ROOT, "load", "target", "numbers-load.jar")
SERVER_OPTIONS = "@" + os.path.join(ROOT, "jvm", "server.options")
LOAD_OPTIONS = "@" + os.path.join(ROOT, "jvm", "load.options")


def default_jdks():
    jdks = [os.path.dirname(os.path.dirname(os.path.realpath(shutil.which("java"))))]
    for candidate in sorted(os.listdir("/usr/lib/jvm")) if os.path.isdir("/usr/lib/jvm") else []:
        path = os.path.join("/usr/lib/jvm", candidate)
        if "25" in candidate and os.path.exists(os.path.join(path, "bin", "java")) and path not in jdks:
            jdks.append(path)
            break
    return jdks


def wait_listening(port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def one_run(jdk, options, port, load_seconds):
    work = tempfile.mkdtemp(prefix="terminate-")
    java = os.path.join(jdk, "bin", "java")
    server = subprocess.Popen([java] + options + ["-jar", JAR, "--port", str(port), "--admin-port", "0"],
                              cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    load = None
    try:
        if not wait_listening(port, server):
            return None, "did not listen"
        load = subprocess.Popen([java, LOAD_OPTIONS, "-jar", LOAD_JAR, "--port", str(port), "--clients", "4",
                                 "--count", "2000000", "--duration", "120s", "--seed", str(time.time_ns() % 1000),
                                 "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(load_seconds + 1.0)  # the load generator's own start, then LOAD_SECONDS of load
        with socket.create_connection(("127.0.0.1", port)) as terminator:
            terminator.sendall(b"terminate\n")
            sent = time.monotonic()
            status = server.wait(timeout=30)
            exited = time.monotonic()
        return (exited - sent) * 1000, ("exit status %d" % status if status != 0 else None)
    finally:
        for process in (load, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--jdk", action="append", help="JDK home; default: the java on the PATH and a JDK 25 if installed")
    parser.add_argument("--load-seconds", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=4610)
    args = parser.parse_args()
    for jar in (JAR, LOAD_JAR):
        if not os.path.exists(jar):
            sys.exit("no %s: build it first (./mvnw -pl server,load -am package -DskipTests)" % jar)
    jdks = args.jdk or default_jdks()
    variants = [(jdk, name, tuple(options), hog) for jdk in jdks
                for name, options in (("launcher options", [SERVER_OPTIONS]), ("no options", []))
                for hog in (False, True)]
    results = {}
    for run in range(args.runs):
        for variant in variants:  # interleaved, so that the machine's drift hits every variant alike
            jdk, name, options, hog = variant
            spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if hog else None
            try:
                millis, problem = one_run(jdk, list(options), args.port, args.load_seconds)
            finally:
                if spinner:
                    spinner.send_signal(signal.SIGKILL)
                    spinner.wait()
            results.setdefault(variant, []).append(millis)
            print("run %2d %-40s %-16s %-8s %s" % (run + 1, jdk, name, "hog" if hog else "idle",
                  "%.0f ms" % millis if millis is not None else "FAILED") + (" (%s)" % problem if problem else ""),
                  file=sys.stderr, flush=True)
    print("terminate -> exit under a 4-client unique-heavy load, %d runs each, %s, %d cores" %
          (args.runs, time.strftime("%Y-%m-%d"), os.cpu_count()))
    print("| JDK | JVM options | machine | median | p90 | worst |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for (jdk, name, _, hog), times in results.items():
        good = sorted(t for t in times if t is not None)
        if not good:
            print("| %s | %s | %s | failed | | |" % (os.path.basename(jdk), name, "CPU hog" if hog else "idle"))
            continue
        p90 = good[min(len(good) - 1, int(round(0.9 * (len(good) - 1))))]
        print("| %s | %s | %s | %.0f ms | %.0f ms | %.0f ms |%s" % (
            os.path.basename(jdk), name, "CPU hog" if hog else "idle", statistics.median(good), p90, good[-1],
            "" if len(good) == len(times) else " %d failed" % (len(times) - len(good))))


if __name__ == "__main__":
    main()
