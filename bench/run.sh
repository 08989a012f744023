#!/usr/bin/env bash
# End-to-end benchmark of numbers-server, as the README's "Performance" table reports it.
#
#   bench/run.sh                 both JDKs (the default java, and JDK 25 if installed), 3 rounds
#   ROUNDS=5 COUNT=10000000 bench/run.sh
#   JDKS="/usr/lib/jvm/java-17-openjdk-amd64" bench/run.sh
#
# For each JDK: first a correctness pass (a fresh server per workload, load --verify: the log must
# hold exactly the unique numbers sent), then ROUNDS rounds, each measuring in turn
#   sink          the null server (load --sink): the ceiling of this machine's loopback + load generator
#   unique-heavy  5 clients x COUNT numbers over 10^9 (about 95% unique, about 1 GB of log)
#   dup-heavy     5 clients x COUNT numbers over 10^6 (99% duplicates)
# Each server run gets a 2 s warm-up first (5 clients repeating 1,000,000 numbers each, other seed,
# same range), so that the rate is the JIT-compiled server's, then the measured run; the clock stops when the server has
# closed every connection after reading it, i.e. when numbers.log holds every number sent. After
# the measured run, 4 clients keep loading it for 2 s and a fifth connection sends terminate:
# the time from that write to the process exit is "terminate->exit". Peak RSS is VmHWM.
# The server runs with the launcher's default JVM options (see the README) and --fsync interval.
# Then, per JDK, the unique-heavy workload once per round under each --fsync policy (never,
# interval, always), interleaved, for the durability table, and with --log /dev/null: the same
# work minus the log's page cache, which shows what bounds the unique-heavy rate.
# Prints every measurement, then medians; takes about 6 minutes per JDK.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${ROUNDS:-3}"
count="${COUNT:-20000000}"
clients=5
port="${PORT:-4600}"
server_opts="@$here/jvm/server.options"
load_opts="@$here/jvm/load.options"

if [[ -z "${JDKS:-}" ]]; then
  JDKS="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25*; do
    if [[ -x "$candidate/bin/java" ]]; then JDKS="$JDKS $candidate"; break; fi
  done
fi

(cd "$here" && ./mvnw -q -B -DskipTests -pl server -am package) >&2
jar="$here/server/target/numbers-server.jar"
work="$(mktemp -d /tmp/numbers-bench.XXXXXX)"
trap 'pkill -f "numbers-server.jar.*--port $port" 2>/dev/null || true; rm -rf "$work"' EXIT

results="$work/results.tsv"   # jdk, workload, round, numbers_per_s, rss_kb, terminate_ms

java_version() { "$1/bin/java" -version 2>&1 | head -1 | sed -E 's/.*version "([^"]+)".*/\1/'; }

# load JDK ARGS...: runs the load generator, prints its numbers/s
load() {
  local jdk="$1"; shift
  "$jdk/bin/java" $load_opts -jar "$jar" load --port "$port" --no-progress "$@" 2>"$work/load.err" \
    | sed -nE 's/^load: [0-9]+ numbers in [0-9.]+ s: ([0-9]+) numbers\/s.*/\1/p'
}

await_port() {
  for _ in $(seq 1 200); do
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

# terminate_under_load JDK: 4 clients load the server; a fifth sends terminate.
# Prints the peak RSS (kB) before the terminate and the ms from terminate to exit.
terminate_under_load() {
  local jdk="$1"
  "$jdk/bin/java" $load_opts -jar "$jar" load --port "$port" --no-progress --clients 4 \
    --count 2000000 --duration 60s --seed 77 >/dev/null 2>&1 &
  local loader=$!
  sleep 2
  local rss_kb start end
  rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
  start=$(date +%s%N)
  exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'terminate\n' >&3
  wait "$server_pid" || true
  end=$(date +%s%N)
  exec 3>&- 3<&-
  kill "$loader" 2>/dev/null || true; wait "$loader" 2>/dev/null || true
  echo "$rss_kb	$(( (end - start) / 1000000 ))"
}

measure_server() { # JDK RANGE ROUND [SERVER OPTIONS...]
  local jdk="$1" range="$2" round="$3" rate
  shift 3
  start_server "$jdk" "$@"
  load "$jdk" --count 1000000 --duration 2s --range "$range" --seed $((1000 + round)) >/dev/null
  rate=$(load "$jdk" --count "$count" --range "$range" --seed "$round")
  echo "$rate	$(terminate_under_load "$jdk")"
}

for jdk in $JDKS; do
  version="$(java_version "$jdk")"
  echo "== JDK $version ($jdk)" >&2

  for range in 1000000000 1000000; do
    start_server "$jdk"
    verdict=$(cd "$work/run" && "$jdk/bin/java" $load_opts -jar "$jar" load --port "$port" --no-progress \
      --count "$count" --range "$range" --seed 42 --terminate --verify numbers.log 2>/dev/null | tail -1)
    wait "$server_pid" || true
    echo "   correctness, range $range: $verdict" >&2
    [[ "$verdict" == "verify: OK"* ]] || { echo "correctness check failed" >&2; exit 1; }
  done

  for round in $(seq 1 "$rounds"); do
    "$jdk/bin/java" $load_opts -jar "$jar" load --sink --port "$port" 2>/dev/null &
    sink_pid=$!
    await_port
    rate=$(load "$jdk" --count "$count" --range 1000000000 --seed "$round")
    kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
    printf '%s\tsink\t%s\t%s\t-\t-\n' "$version" "$round" "$rate" >> "$results"
    echo "   round $round sink: $rate numbers/s" >&2

    for workload in unique-heavy:1000000000 dup-heavy:1000000; do
      name="${workload%%:*}"; range="${workload##*:}"
      IFS=$'\t' read -r rate rss terminate_ms < <(measure_server "$jdk" "$range" "$round")
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$version" "$name" "$round" "$rate" "$rss" "$terminate_ms" >> "$results"
      echo "   round $round $name: $rate numbers/s, peak RSS $((rss / 1024)) MB, terminate->exit ${terminate_ms} ms" >&2
    done
  done

  for round in $(seq 1 "$rounds"); do
    for variant in "--fsync never" "--fsync interval" "--fsync always" "--log /dev/null"; do
      # shellcheck disable=SC2086 # the variant is two words
      IFS=$'\t' read -r rate rss terminate_ms < <(measure_server "$jdk" 1000000000 "$round" $variant)
      printf '%s\tunique-heavy, %s\t%s\t%s\t%s\t%s\n' "$version" "$variant" "$round" "$rate" "$rss" "$terminate_ms" >> "$results"
      echo "   round $round unique-heavy $variant: $rate numbers/s, terminate->exit ${terminate_ms} ms" >&2
    done
  done
done

echo
echo "numbers-server end to end, $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
echo "$clients clients x $count numbers, medians of $rounds rounds"
echo
printf '| JDK | workload | numbers/s | %% of sink | peak RSS | terminate->exit under load |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: |\n'
python3 - "$results" <<'EOF'
import sys, statistics, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
by = collections.OrderedDict()
for jdk, name, rnd, rate, rss, term in rows:
    by.setdefault((jdk, name), []).append((float(rate), rss, term))
for (jdk, name), runs in by.items():
    rate = statistics.median(r for r, _, _ in runs)
    sink = statistics.median(r for r, _, _ in by[(jdk, "sink")])
    rss = "-" if runs[0][1] == "-" else "%d MB" % (max(int(r) for _, r, _ in runs) // 1024)
    term = "-" if runs[0][2] == "-" else "%d ms" % statistics.median(int(t) for _, _, t in runs)
    print("| %s | %s | %.1f M | %.0f%% | %s | %s |" % (jdk, name, rate / 1e6, 100 * rate / sink, rss, term))
EOF
