#!/usr/bin/env python3
"""Throughput of numbers servers side by side, measured with the yardstick in bench/yardstick/.

    python3 bench/perf.py --server NAME=COMMAND [--server NAME=COMMAND ...] [--rounds 3]
        [--workloads dups,unique,churn] [--per-client 20000000] [--clients 5] [--warmup N]
        [--port 4000] [--seed 1] [--timeout 300]

COMMAND starts a server that listens on --port and writes numbers.log in its working directory;
"{port}" in it is replaced by the port. Two names are special: c-reference is the yardstick's C
server (bench/yardstick/server.c), c-discard the same program reading and discarding (-d): the
machine's loopback ceiling, timed until the clients are done since it writes no log.

Workloads, each CLIENTS x PER_CLIENT numbers from bench/yardstick/loadgen.c:
    dups    over [0, 10^6): 99% duplicates, the log is about 7 MB
    unique  over [0, 10^9): about 95% new, about 1 GB of log
    churn   over [0, 10^9), each client reconnecting every 1,000 numbers and closing without
            waiting for the server; a warm-up, if any, uses one connection per client
Each run starts the server in a fresh temporary directory (the port free first), waits for it to
listen, runs the load generator until numbers.log holds the whole unique set, reads the server's
peak RSS (VmHWM, the largest of its process group, polled during the run), and kills the group.
Servers take turns, round by round (A B A B ...), so that this shared machine's drift hits all
alike. Each run is a line on stderr; the table of medians goes to stdout. A server's ratio to the
first server is the median of the per-round ratios. A failed run is printed with its reason and
counted; the exit status is 1 if any run failed.

Needs gcc and python3; builds the C programs into bench/yardstick/build/ when their sources are
newer than the binaries.
"""
import argparse
import datetime
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

YARDSTICK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "yardstick")
BUILD = os.path.join(YARDSTICK, "build")
LOADGEN = os.path.join(BUILD, "loadgen")
SERVER = os.path.join(BUILD, "server")
WORKLOADS = {  # name: (range, numbers per connection, 0 for one connection per client)
    "dups": (10**6, 0),
    "unique": (10**9, 0),
    "churn": (10**9, 1000),
}
POLL_S = 0.25           # how often the server's RSS is read while the load runs
START_TIMEOUT_S = 120   # a server's first start may include a build
PORT_FREE_TIMEOUT_S = 30
LISTEN = "0A"           # the TCP state LISTEN in /proc/net/tcp


def build():
    """Compiles loadgen.c and server.c when a binary is missing or older than its source."""
    os.makedirs(BUILD, exist_ok=True)
    for out in (LOADGEN, SERVER):
        src = os.path.join(YARDSTICK, os.path.basename(out) + ".c")
        if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
            continue
        print("perf: building %s" % out, file=sys.stderr)
        tmp = "%s.%d" % (out, os.getpid())  # renamed into place: a concurrent run never sees half a binary
        subprocess.check_call(["gcc", "-O2", "-Wall", "-Wextra", "-pthread", "-o", tmp, src])
        os.replace(tmp, out)


def listening(port):
    """Whether any socket listens on the port, from /proc/net/tcp{,6}: asking by connecting
    would hand the server a connection that is not part of the load."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def peak_rss_kb(pgid):
    """The largest VmHWM of the processes in the group (a launcher script and its JVM: the JVM)."""
    peak = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % pid) as f:
                if int(f.read().rsplit(")", 1)[1].split()[2]) != pgid:
                    continue
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            pass  # the process ended meanwhile: its peak was read at an earlier poll, if ever
    return peak


def last_line(path, chars=200):
    """The file's last line, at most its last chars: a program's last word on why it stopped."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read().strip().splitlines()
    except OSError:
        return ""
    return lines[-1][-chars:].replace("loadgen: ", "") if lines else ""


def run_once(argv, has_log, workload, a):
    """One server, one load. Returns (numbers/s, connections/s or None, peak RSS in kB, reason);
    numbers/s is None when the run failed, and reason says why."""
    end = time.time() + PORT_FREE_TIMEOUT_S
    while listening(a.port) and time.time() < end:
        time.sleep(0.1)
    if listening(a.port):
        return None, None, 0, "port %d is busy" % a.port
    work = tempfile.mkdtemp(prefix="yardstick-")
    out = open(os.path.join(work, "server.out"), "w")
    try:
        server = subprocess.Popen(argv, cwd=work, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                  start_new_session=True)
    except OSError as e:
        out.close()
        shutil.rmtree(work, ignore_errors=True)
        return None, None, 0, "could not start: %s" % e
    rss, gen = 0, None
    try:
        end = time.time() + START_TIMEOUT_S
        while not listening(a.port):
            if server.poll() is not None:
                return None, None, 0, "exited with %d before listening: %s" % (server.returncode, last_line(out.name))
            if time.time() > end:
                return None, None, 0, "did not listen within %d s" % START_TIMEOUT_S
            time.sleep(0.05)
        rng, every = WORKLOADS[workload]
        load = [LOADGEN, "-p", str(a.port), "-c", str(a.clients), "-n", str(a.per_client), "-r", str(rng),
                "-s", str(a.seed), "-w", str(a.warmup), "-k", str(every), "-t", str(a.timeout)]
        if has_log:
            load += ["-l", os.path.join(work, "numbers.log")]
        with open(os.path.join(work, "load.out"), "w+") as lo, open(os.path.join(work, "load.err"), "w+") as le:
            gen = subprocess.Popen(load, stdin=subprocess.DEVNULL, stdout=lo, stderr=le)
            while gen.poll() is None:
                rss = max(rss, peak_rss_kb(server.pid))
                time.sleep(POLL_S)
            rss = max(rss, peak_rss_kb(server.pid))
            lo.seek(0)
            last = (lo.read().strip().splitlines() or [""])[-1]  # loadgen's result: key=value pairs
            result = dict(kv.split("=", 1) for kv in last.split() if "=" in kv)
        if gen.returncode != 0 or result.get("status") != "ok":
            why = last_line(le.name)
            if server.poll() is not None:
                why = "the server exited with %d: %s; %s" % (server.returncode, last_line(out.name), why)
            return None, None, rss, "%s: %s" % (result.get("status", "no result"), why)
        conn = float(result["conn_rate"]) if "conn_rate" in result else None
        return float(result["rate"]), conn, rss, ""
    finally:
        if gen is not None and gen.poll() is None:  # interrupted: the load goes with the server
            gen.kill()
            gen.wait()
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.wait()
        out.close()
        shutil.rmtree(work, ignore_errors=True)


def parse_server(spec, port):
    """NAME=COMMAND to (name, argv, writes a log)."""
    name, sep, cmd = spec.partition("=")
    if not sep or not name or not cmd:
        sys.exit('perf: --server wants NAME=COMMAND, got %r' % spec)
    if cmd == "c-reference":
        return name, [SERVER, "-p", str(port)], True
    if cmd == "c-discard":
        return name, [SERVER, "-d", "-p", str(port)], False
    return name, shlex.split(cmd.replace("{port}", str(port))), True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", action="append", required=True, metavar="NAME=COMMAND")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workloads", default="dups,unique,churn", help="comma-separated: " + ",".join(WORKLOADS))
    ap.add_argument("--per-client", type=int, default=20_000_000, help="numbers per client (timed)")
    ap.add_argument("--clients", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=0, help="numbers per client sent untimed first")
    ap.add_argument("--port", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1, help="the same seed sends the same numbers")
    ap.add_argument("--timeout", type=int, default=300, help="seconds a run may take")
    a = ap.parse_args()
    workloads = a.workloads.split(",")
    for w in workloads:
        if w not in WORKLOADS:
            sys.exit("perf: unknown workload %r (known: %s)" % (w, ", ".join(WORKLOADS)))
    servers = [parse_server(s, a.port) for s in a.server]
    if len({name for name, _, _ in servers}) != len(servers):
        sys.exit("perf: two servers have the same name")
    build()
    print("# perf.py %s; %s, %d CPUs; %d x %d numbers, warm-up %d, %d rounds" % (
        " ".join(shlex.quote(x) for x in sys.argv[1:]), datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%MZ"), os.cpu_count(), a.clients, a.per_client, a.warmup, a.rounds), flush=True)

    runs = {}  # (server, workload): [(numbers/s or None, connections/s, rss kB)], one per round
    failures = 0
    for w in workloads:
        for r in range(1, a.rounds + 1):
            for name, argv, has_log in servers:
                rate, conn, rss, why = run_once(argv, has_log, w, a)
                runs.setdefault((name, w), []).append((rate, conn, rss))
                failures += rate is None
                shown = "FAILED (%s)" % why if rate is None else "%7.1f M/s" % (rate / 1e6)
                if conn is not None:
                    shown += " %7.1f k conn/s" % (conn / 1e3)
                print("  %-7s %-12s round %d: %s  peak %d MB" % (w, name, r, shown, rss // 1024),
                      file=sys.stderr, flush=True)

    base = servers[0][0]
    print("%-12s %-7s %11s %11s %8s %10s %s" % ("server", "workload", "numbers/s", "conn/s", "peak MB",
                                              "ratio/" + base, "failed"))
    for w in workloads:
        for name, _, _ in servers:
            mine = runs[(name, w)]
            rates = [rate for rate, _, _ in mine if rate is not None]
            conns = [conn for rate, conn, _ in mine if rate is not None and conn is not None]
            ratios = [rate / b for (rate, _, _), (b, _, _) in zip(mine, runs[(base, w)]) if rate and b]
            print("%-12s %-7s %11s %11s %8d %10s %d/%d" % (
                name, w, "%.1f M" % (statistics.median(rates) / 1e6) if rates else "FAILED",
                "%.1f k" % (statistics.median(conns) / 1e3) if conns else "-",
                max(rss for _, _, rss in mine) // 1024,
                "%.2f" % statistics.median(ratios) if ratios else "-", len(mine) - len(rates), len(mine)))
    print("%d of %d runs failed" % (failures, sum(len(v) for v in runs.values())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
