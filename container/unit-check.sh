#!/usr/bin/env bash
# Runs the release archive's systemd unit under a real systemd, in a podman container that boots
# Debian's systemd as its init, and checks what the unit promises, one PASS or FAIL line each;
# exits 1 if any check failed, 2 if it could not run them.
#
#   container/unit-check.sh
#
# The archive (dist/target/numbers-server-VERSION.tar.gz, built first if missing) is mounted at
# /opt/numbers-server, the unit and the logrotate file installed as the unit's comments say. The
# checks: systemd-analyze verify passes; the server runs as a user of its own, no capabilities,
# no new privileges, a seccomp filter; numbers sent land in /var/lib/numbers-server/numbers.log;
# logrotate then systemctl reload leave each number in exactly one file; systemctl stop is a
# clean exit 0; a kill -9 is restarted; a client's terminate is not. It prints systemd-analyze
# security's score. The image, localhost/numbers-systemd:bookworm (systemd, logrotate, procps for
# /bin/kill, and openjdk-17-jre-headless, from Debian packages by mmdebstrap), is built once and
# kept.
# Needs root and podman; not part of `./mvnw verify`.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

image="localhost/numbers-systemd:bookworm"
container="numbers-server-unit-check"
failures=0
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
say() { echo "unit-check: $*"; }
die() { echo "unit-check: $*" >&2; exit 2; }
pm() { podman --runtime runc --cgroup-manager cgroupfs "$@"; }
in_box() { pm exec "$container" "$@"; }

[[ $EUID -eq 0 ]] || die "run it as root (podman, and systemd as a container's init)"
for tool in podman runc mmdebstrap; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null \
    || die "no $tool, and apt-get could not install it"
done

version="$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' pom.xml | head -1)"
archive="dist/target/numbers-server-$version.tar.gz"
if [[ ! -f "$archive" ]]; then
  say "building the release archive: ./mvnw -B -q -pl dist -am package -DskipTests"
  ./mvnw -B -q -pl dist -am package -DskipTests >&2
fi

work="$(mktemp -d)"
cleanup() {
  pm rm -f -t 0 "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if ! podman image exists "$image"; then
  say "building $image from Debian bookworm packages (systemd, logrotate, procps, openjdk-17-jre-headless)"
  # shellcheck disable=SC2016 # $1 is the hook's argument, the new root, expanded by mmdebstrap
  mmdebstrap --quiet --variant=apt --include=systemd,systemd-sysv,logrotate,procps,openjdk-17-jre-headless \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --setup-hook='mkdir -p "$1/usr/share/man/man1"' bookworm "$work/base.tar" >&2 \
    || die "mmdebstrap could not build $image"
  podman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/sbin/init"]' "$work/base.tar" "$image" >/dev/null
  rm -f "$work/base.tar"
fi

mkdir -p "$work/opt"
tar -xzf "$archive" -C "$work/opt" --strip-components=1
say "$archive, under $(podman image inspect --format '{{.Id}}' "$image" | cut -c1-12) ($image)"
pm rm -f -t 0 "$container" >/dev/null 2>&1 || true
pm run -d --name "$container" --systemd=always --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  -v "$work/opt:/opt/numbers-server:ro" "$image" /sbin/init >/dev/null
deadline=$((SECONDS + 60))
until in_box systemctl is-system-running 2>/dev/null | grep -qE '^(running|degraded)$'; do
  (( SECONDS < deadline )) || die "systemd did not come up in the container within 60 s"
  sleep 0.5
done
say "$(in_box systemctl --version | head -1) is up in $container"

in_box install -m 644 /opt/numbers-server/systemd/numbers-server.service /etc/systemd/system/
in_box install -m 644 /opt/numbers-server/systemd/numbers-server.logrotate /etc/logrotate.d/numbers-server
if verify="$(in_box systemd-analyze verify /etc/systemd/system/numbers-server.service 2>&1)" && [[ -z "$verify" ]]; then
  pass "systemd-analyze verify: no complaint"
else
  fail "systemd-analyze verify: $verify"
fi
in_box systemctl daemon-reload
in_box systemctl enable --now numbers-server.service 2>/dev/null

journal() { in_box journalctl -u numbers-server.service --no-pager -o cat; }
# await_started N: waits (30 s at most) for the Nth `started` line in the journal.
await_started() {
  local deadline=$((SECONDS + 30))
  until (( $(journal | grep -c ' INFO  started port=' || true) >= $1 )); do
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}
# send FIRST COUNT: COUNT numbers from FIRST on, over loopback inside the container.
send() { in_box bash -c "exec 3<>/dev/tcp/127.0.0.1/4000; for ((i = $1; i < $1 + $2; i++)); do printf '%09d\n' \$i; done >&3"; }
lines() { in_box bash -c "cat $1 2>/dev/null | wc -l"; }
main_pid() { in_box systemctl show -p MainPID --value numbers-server.service; }
prop() { in_box systemctl show -p "$1" --value numbers-server.service; }

await_started 1 || { journal | tail -n 20; die "the service did not start within 30 s (its journal above)"; }
say "$(journal | grep ' INFO  started port=' | tail -1)"

status="$(in_box cat "/proc/$(main_pid)/status")"
field() { awk -v f="$1:" '$1 == f { print $2 }' <<<"$status"; }
if [[ "$(field Uid)" != 0 && "$(field CapEff)" == 0000000000000000 && "$(field CapBnd)" == 0000000000000000 \
    && "$(field NoNewPrivs)" == 1 && "$(field Seccomp)" == 2 ]]; then
  pass "a user of its own (uid $(field Uid)), no capabilities (effective, bounding), no new privileges, seccomp filter on"
else
  fail "the process: uid $(field Uid), CapEff $(field CapEff), CapBnd $(field CapBnd), NoNewPrivs $(field NoNewPrivs), Seccomp $(field Seccomp)"
fi

log=/var/lib/numbers-server/numbers.log
send 1 1000
deadline=$((SECONDS + 10))
until (( $(lines $log) >= 1000 )) || (( SECONDS > deadline )); do sleep 0.2; done
if (( $(lines $log) == 1000 )); then
  pass "1,000 numbers sent to port 4000: $log holds them"
else
  fail "1,000 numbers sent: $log holds $(lines $log) lines"
fi

in_box logrotate -f /etc/logrotate.d/numbers-server || true  # judged below, by the files
send 2001 500
deadline=$((SECONDS + 10))
until (( $(lines $log) >= 500 )) || (( SECONDS > deadline )); do sleep 0.2; done
if (( $(lines $log.1) == 1000 && $(lines $log) == 500 )) && journal | grep -q 'INFO  reopened the log numbers.log'; then
  pass "logrotate, then systemctl reload (SIGUSR1): numbers.log.1 holds the first 1,000, a new numbers.log the next 500"
else
  fail "after logrotate: numbers.log.1 $(lines $log.1) lines, numbers.log $(lines $log); $(journal | grep -E 'reopen' | tail -1)"
fi

start="$(date +%s%N)"
in_box systemctl stop numbers-server.service
stop_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [[ "$(prop Result)" == success && "$(prop ExecMainStatus)" == 0 ]] \
    && journal | grep -q 'stopped: unique total 1500, duplicates 0, exit status 0'; then
  pass "systemctl stop: SIGTERM, exit status 0, in $stop_ms ms; $(journal | grep 'INFO  stopped: ' | tail -1 | sed 's/^.* INFO  //')"
else
  fail "systemctl stop: result $(prop Result), status $(prop ExecMainStatus)"
fi

in_box systemctl start numbers-server.service
await_started 2 || fail "the service did not start again"
in_box kill -KILL "$(main_pid)"
deadline=$((SECONDS + 20))
until (( $(journal | grep -c ' INFO  started port=' || true) >= 3 )) || (( SECONDS > deadline )); do sleep 0.2; done
if [[ "$(prop NRestarts)" == 1 && "$(prop ActiveState)" == active ]]; then
  pass "kill -9: restarted by Restart=on-failure after RestartSec (restarts: 1), the log emptied ($(lines $log) lines)"
else
  fail "kill -9: restarts $(prop NRestarts), state $(prop ActiveState)"
fi

in_box bash -c 'printf "terminate\n" >/dev/tcp/127.0.0.1/4000'
sleep 7  # longer than RestartSec=5s: a restart, if one came, would have come
if [[ "$(prop ActiveState)" == inactive && "$(prop Result)" == success && "$(prop NRestarts)" == 1 ]]; then
  pass "a client's terminate: exit 0, the service stays stopped"
else
  fail "after terminate: state $(prop ActiveState), result $(prop Result), restarts $(prop NRestarts)"
fi

say "systemd-analyze security: $(in_box systemd-analyze security numbers-server.service --no-pager 2>&1 | tail -1 | sed 's/^→ //')"
if (( failures > 0 )); then
  echo "unit-check: $failures check(s) FAILED"
  exit 1
fi
echo "unit-check: all checks passed"
