#!/usr/bin/env bash
# Soak run (not part of CI): SOAK_SECONDS (default 60) of load from 3 good clients while hostile
# clients come and go on the other slots, then terminate, then check everything.
#
#   bench/soak.sh                  # 60 s
#   SOAK_SECONDS=600 bench/soak.sh
#
# Hostile clients, one after another, cycling: 64 KiB of random bytes; 10 MB of digits without a
# newline; a silent connection (the server runs with --idle-timeout 2s); a partial line then a
# close; "Terminate" in the wrong case; three connections at once (slots full: rejected); junk on
# the command port. None sends a valid number line, so the log must hold exactly the good
# clients' numbers. Checks: `load --verify` OK, the server's open files, threads and RSS before
# and after the hostile traffic, and exit status 0 after a terminate.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${SOAK_SECONDS:-60}"
port="${PORT:-4700}"
admin="${ADMIN_PORT:-4701}"
metrics="${METRICS_PORT:-4702}"

(cd "$here" && ./mvnw -q -B -DskipTests -pl server,load -am package) >&2 || exit 1
jar="$here/server/target/numbers-server.jar"
load_jar="$here/load/target/numbers-load.jar"
work="$(mktemp -d /tmp/numbers-soak.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

cd "$work"
java @"$here/jvm/server.options" -jar "$jar" --port "$port" --admin-port "$admin" --metrics-port "$metrics" \
  --idle-timeout 2s >stdout.txt 2>stderr.txt &
server=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# Open files, threads (without the JIT compiler threads the JVM adds and removes), RSS.
resources() {
  printf 'open files %s, threads %s, RSS %s MB' \
    "$(ls "/proc/$server/fd" | wc -l)" "$(cat /proc/$server/task/*/comm | grep -vc Compiler)" \
    "$(( $(awk '/VmRSS/ {print $2}' "/proc/$server/status") / 1024 ))"
}

java -Xmx1g -XX:MaxDirectMemorySize=4g -jar "$load_jar" --port "$port" --clients 3 --count 2000000 \
  --duration "${seconds}s" --seed 2026 --no-progress --verify numbers.log >load.txt 2>load.err &
loader=$!
sleep 2
before="$(resources)"   # the 3 good clients are connected

hostile_kinds=(garbage digits silent partial wrong-case burst command)
declare -A count
deadline=$(( $(date +%s) + seconds - 3 ))
i=0
while (( $(date +%s) < deadline )); do
  kind="${hostile_kinds[$(( i % ${#hostile_kinds[@]} ))]}"
  case "$kind" in
    garbage) (head -c 65536 /dev/urandom >"/dev/tcp/127.0.0.1/$port") 2>/dev/null ;;
    digits) (yes 7 | tr -d '\n' | head -c 10000000 >"/dev/tcp/127.0.0.1/$port") 2>/dev/null ;;
    silent) (exec 3<>"/dev/tcp/127.0.0.1/$port"; timeout 3 cat <&3 >/dev/null) 2>/dev/null ;;
    partial) (printf '12345' >"/dev/tcp/127.0.0.1/$port") 2>/dev/null ;;
    wrong-case) (printf 'Terminate\n' >"/dev/tcp/127.0.0.1/$port") 2>/dev/null ;;
    burst) for _ in 1 2 3; do (exec 3<>"/dev/tcp/127.0.0.1/$port"; sleep 0.2; printf 'x\n' >&3) 2>/dev/null & done ;;
    command) (exec 3<>"/dev/tcp/127.0.0.1/$admin"; printf 'WHO\nSTATS\nterminate\nWHY\n' >&3; timeout 1 head -4 <&3 >/dev/null) 2>/dev/null ;;
  esac
  count[$kind]=$(( ${count[$kind]:-0} + 1 ))
  i=$((i + 1))
done
wait "$loader"; load_status=$?   # the good clients are done and the log is verified
sleep 6                           # command-port threads end 5 s after their client
after="$(resources)"
metrics_text="$(curl -s "http://127.0.0.1:$metrics/metrics" 2>/dev/null || true)"
(printf 'terminate\n' >"/dev/tcp/127.0.0.1/$port") 2>/dev/null
wait "$server"; server_status=$?

echo "numbers-server soak, $(date -u +%Y-%m-%d), ${seconds} s, $(java -version 2>&1 | head -1)"
echo "good clients:   $(grep -h '^load:' load.txt)"
echo "verify:         $(grep -h '^verify' load.txt)"
echo "hostile:        $(for k in "${hostile_kinds[@]}"; do printf '%s %s, ' "$k" "${count[$k]:-0}"; done)"
echo "server:         $(grep -E '^numbers_(invalid_connections|clients_rejected)_total' <<<"$metrics_text" | tr '\n' ' ')"
echo "resources:      before: $before; after: $after"
echo "exit status:    server $server_status, load $load_status"
echo "stderr:         $(grep -c ' ERROR ' stderr.txt) ERROR lines, $(grep -c ' WARN ' stderr.txt) WARN lines"
[[ $server_status -eq 0 && $load_status -eq 0 ]]
