#!/usr/bin/env bash
# End-to-end benchmark of numbers-server, as bench/README.md reports it.
#
#   bench/run.sh                       both JDKs (the java on the PATH, and a JDK 25 if installed), 3 rounds
#   ROUNDS=5 COUNT=10000000 bench/run.sh
#   JDKS="/usr/lib/jvm/java-17-openjdk-amd64" bench/run.sh
#   FSYNC=1 bench/run.sh               also the unique-heavy load under each --fsync policy
#
# For each JDK: a correctness pass (a fresh server per workload, `load --verify`: the log must
# hold exactly the unique numbers sent), then ROUNDS interleaved rounds of
#   sink          the null server (load --sink): the ceiling of loopback plus the load generator
#   unique-heavy  5 clients x COUNT numbers over 10^9 (about 95% unique, about 1 GB of log)
#   dup-heavy     5 clients x COUNT numbers over 10^6 (99% duplicates)
#   churn         as unique-heavy, each client reconnecting every 1,000 numbers (load
#                 --reconnect-every 1000: 5 x COUNT / 1,000 connections), cold only
# each measured twice on a fresh server: "cold", from its very first number, as a user starts it;
# and "warm", after 5 x 4,000,000 untimed numbers of another seed (the JIT has then compiled
# everything the load reaches). The load generator's clock stops when the server has closed
# every connection after reading it to the end, that is when numbers.log holds every number sent.
# After each warm run, 4 clients keep loading the server and a fifth sends terminate: the time
# from that write to the process's exit is "terminate->exit". Peak RSS is the server's VmHWM.
# The server runs with jvm/server.options, as the launcher runs it. Prints every measurement
# to stderr and a table of medians to stdout; about 9 minutes per JDK.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${ROUNDS:-3}"
count="${COUNT:-20000000}"
warmup=4000000
port="${PORT:-4600}"
server_opts="@$here/jvm/server.options"
load_opts="@$here/jvm/load.options"

if [[ -z "${JDKS:-}" ]]; then
  JDKS="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  for candidate in /usr/lib/jvm/temurin-25*; do
    if [[ -x "$candidate/bin/java" ]]; then JDKS="$JDKS $candidate"; break; fi
  done
fi

(cd "$here" && ./mvnw -q -B -DskipTests -pl server,load -am package) >&2
jar="$here/server/target/numbers-server.jar"
load_jar="$here/load/target/numbers-load.jar"
work="$(mktemp -d /tmp/numbers-bench.XXXXXX)"
trap 'pkill -f "numbers-(server|load).jar.*--port $port" 2>/dev/null || true; rm -rf "$work"' EXIT
results="$work/results.tsv"   # jdk, workload, round, numbers_per_s, rss_kb, terminate_ms, connections_per_s

java_version() { "$1/bin/java" -version 2>&1 | head -1 | sed -E 's/.*version "([^"]+)".*/\1/'; }

# load JDK ARGS...: runs the load generator, prints its numbers/s (and, when it reconnects, a
# tab and its connections/s)
load() {
  local jdk="$1"; shift
  "$jdk/bin/java" $load_opts -jar "$load_jar" --port "$port" --no-progress "$@" 2>>"$work/load.err" \
    | sed -nE -e 's/^load: [0-9]+ numbers in [0-9.]+ s: ([0-9]+) numbers\/s.*, ([0-9]+) connections\/s$/\1\t\2/p;t' \
              -e 's/^load: [0-9]+ numbers in [0-9.]+ s: ([0-9]+) numbers\/s.*/\1/p'
}

await_port() {
  for _ in $(seq 1 400); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $port" >&2; return 1
}

# start_server JDK [OPTIONS...]: starts the server in $work/run, sets $server_pid
start_server() {
  local jdk="$1"; shift
  rm -rf "$work/run"; mkdir -p "$work/run"
  (cd "$work/run" && exec "$jdk/bin/java" $server_opts -jar "$jar" --port "$port" --admin-port 0 "$@" >/dev/null 2>"$work/server.err") &
  server_pid=$!
  await_port
}

stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$server_pid/status"; }

# terminate_under_load JDK: 4 clients load the server; a fifth sends terminate. Prints the ms
# from the terminate to the process's exit.
terminate_under_load() {
  local jdk="$1" loader start end
  "$jdk/bin/java" $load_opts -jar "$load_jar" --port "$port" --no-progress --clients 4 \
    --count 2000000 --duration 60s --seed 77 >/dev/null 2>&1 &
  loader=$!
  sleep 3
  start=$(date +%s%N)
  exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'terminate\n' >&3
  wait "$server_pid" || true
  end=$(date +%s%N)
  exec 3>&- 3<&-
  kill "$loader" 2>/dev/null || true; wait "$loader" 2>/dev/null || true
  echo $(( (end - start) / 1000000 ))
}

# measure JDK RANGE ROUND STATE [SERVER OPTIONS...]: STATE is cold or warm; prints rate, rss, terminate ms
measure() {
  local jdk="$1" range="$2" round="$3" state="$4" rate rss terminate_ms="-"
  shift 4
  start_server "$jdk" "$@"
  if [[ "$state" == warm ]]; then
    load "$jdk" --count "$warmup" --range "$range" --seed $((1000 + round)) >/dev/null
  fi
  rate=$(load "$jdk" --count "$count" --range "$range" --seed "$round")
  rss=$(peak_rss_kb)
  if [[ "$state" == warm ]]; then terminate_ms=$(terminate_under_load "$jdk"); else stop_server; fi
  echo "$rate	$rss	$terminate_ms"
}

for jdk in $JDKS; do
  version="$(java_version "$jdk")"
  echo "== JDK $version ($jdk)" >&2
  for range in 1000000000 1000000; do
    start_server "$jdk"
    verdict=$(cd "$work/run" && "$jdk/bin/java" $load_opts -jar "$load_jar" --port "$port" --no-progress \
      --count "$count" --range "$range" --seed 42 --terminate --verify numbers.log 2>/dev/null | tail -1)
    wait "$server_pid" || true
    echo "   correctness, range $range: $verdict" >&2
    [[ "$verdict" == "verify: OK"* ]] || { echo "correctness check failed" >&2; exit 1; }
  done

  for round in $(seq 1 "$rounds"); do
    "$jdk/bin/java" $load_opts -jar "$load_jar" --sink --port "$port" 2>/dev/null &
    sink_pid=$!
    await_port
    rate=$(load "$jdk" --count "$count" --range 1000000000 --seed "$round")
    kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
    printf '%s\tsink\t%s\t%s\t-\t-\t-\n' "$version" "$round" "$rate" >> "$results"
    echo "   round $round sink: $rate numbers/s" >&2
    for workload in unique-heavy:1000000000 dup-heavy:1000000; do
      for state in cold warm; do
        name="${workload%%:*}, $state"; range="${workload##*:}"
        IFS=$'\t' read -r rate rss terminate_ms < <(measure "$jdk" "$range" "$round" "$state")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t-\n' "$version" "$name" "$round" "$rate" "$rss" "$terminate_ms" >> "$results"
        echo "   round $round $name: $rate numbers/s, peak RSS $((rss / 1024)) MB, terminate->exit $terminate_ms ms" >&2
      done
    done
    start_server "$jdk"
    IFS=$'\t' read -r rate conn_rate < <(load "$jdk" --count "$count" --range 1000000000 --seed "$round" --reconnect-every 1000)
    rss=$(peak_rss_kb)
    stop_server
    printf '%s\tchurn, cold\t%s\t%s\t%s\t-\t%s\n' "$version" "$round" "$rate" "$rss" "$conn_rate" >> "$results"
    echo "   round $round churn, cold: $rate numbers/s, $conn_rate connections/s, peak RSS $((rss / 1024)) MB" >&2
    if [[ -n "${FSYNC:-}" ]]; then
      for policy in never interval always; do
        IFS=$'\t' read -r rate rss terminate_ms < <(measure "$jdk" 1000000000 "$round" warm --fsync "$policy")
        printf '%s\tunique-heavy, warm, --fsync %s\t%s\t%s\t%s\t%s\t-\n' "$version" "$policy" "$round" "$rate" "$rss" "$terminate_ms" >> "$results"
        echo "   round $round unique-heavy --fsync $policy: $rate numbers/s, terminate->exit $terminate_ms ms" >&2
      done
    fi
  done
done

echo "numbers-server end to end, $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
echo "5 clients x $count numbers, medians of $rounds interleaved rounds"
echo
printf '| JDK | workload | numbers/s | %% of sink | connections/s | peak RSS | terminate->exit under load |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: | ---: |\n'
python3 - "$results" <<'EOF'
import sys, statistics, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
by = collections.OrderedDict()
for jdk, name, rnd, rate, rss, term, conn in rows:
    by.setdefault((jdk, name), []).append((float(rate), rss, term, conn))
for (jdk, name), runs in by.items():
    rate = statistics.median(r[0] for r in runs)
    sink = statistics.median(r[0] for r in by[(jdk, "sink")])
    rss = "-" if runs[0][1] == "-" else "%d MB" % (max(int(r[1]) for r in runs) // 1024)
    term = "-" if runs[0][2] == "-" else "%d ms" % statistics.median(int(r[2]) for r in runs)
    conn = "-" if runs[0][3] == "-" else "%.1f k" % (statistics.median(float(r[3]) for r in runs) / 1e3)
    print("| %s | %s | %.1f M | %.0f%% | %s | %s | %s |" % (jdk, name, rate / 1e6, 100 * rate / sink, conn, rss, term))
EOF
