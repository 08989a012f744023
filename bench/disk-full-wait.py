#!/usr/bin/env python3
"""CPU used by client threads that wait while the disk is full (run as root: it mounts a tmpfs).

    bench/disk-full-wait.py JAR "JVM OPTIONS"

Client A sends 1.5 M numbers into a 32 MiB tmpfs left with 16 KiB free: its first batch is marked and
held in a failing write. Four more clients send 1,000 of the same numbers and end their stream: each
finds them seen and, before its connection is closed, waits for A's batch (BatchesInFlight). Prints
the CPU each client thread used over 10 s of that wait, from /proc/PID/task/*/stat.
"""
import os, socket, subprocess, sys, time, tempfile
jar, opts = sys.argv[1], sys.argv[2].split()
port = 4630
d = "/tmp/dfull"; os.makedirs(d, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", d], check=True)
try:
    srv = subprocess.Popen(["java"] + opts + ["-jar", jar, "--port", str(port), "--admin-port", "0"], cwd=d,
                           stdout=subprocess.DEVNULL, stderr=open("/tmp/waitcpu.err", "w"))
    for _ in range(200):
        try: socket.create_connection(("127.0.0.1", port)).close(); break
        except OSError: time.sleep(0.05)
    st = os.statvfs(d); free = st.f_bavail * st.f_frsize
    with open(d + "/filler", "wb") as f: f.write(b"\0" * (free - 16 * 1024))
    nums = [100000000 + i * 397 for i in range(1500000)]
    a = socket.create_connection(("127.0.0.1", port))
    payload = "".join("%09d\n" % n for n in nums).encode()
    import threading
    threading.Thread(target=lambda: a.sendall(payload), daemon=True).start()
    time.sleep(2)
    others = []
    for c in range(4):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall("".join("%09d\n" % n for n in nums[:1000]).encode()); s.shutdown(socket.SHUT_WR)
        others.append(s)
    time.sleep(2)
    def ticks():
        out = {}
        for t in os.listdir("/proc/%d/task" % srv.pid):
            try:
                comm = open("/proc/%d/task/%s/comm" % (srv.pid, t)).read().strip()
                f = open("/proc/%d/task/%s/stat" % (srv.pid, t)).read().rsplit(")", 1)[1].split()
                out[t] = (comm, int(f[11]) + int(f[12]))
            except OSError: pass
        return out
    t0 = ticks(); time.sleep(10); t1 = ticks()
    hz = os.sysconf("SC_CLK_TCK")
    for t, (comm, v) in sorted(t1.items(), key=lambda x: x[1][0]):
        if comm.startswith("client"):
            print("%-12s %5.2f%% of a core" % (comm, 100.0 * (v - t0.get(t, (comm, v))[1]) / hz / 10))
    print("total process: %.2f%% of a core" % (100.0 * (sum(v for _, v in t1.values()) - sum(v for _, v in t0.values())) / hz / 10))
    srv.kill(); srv.wait()
finally:
    subprocess.run(["umount", "-l", d])
