#!/usr/bin/env bash
# Builds the container image from the Dockerfile, runs it with podman, and checks what an operator
# relies on, one PASS or FAIL line each; exits 1 if any check failed, 2 if it could not run them.
#
#   container/check.sh              build (reusing podman's layer cache), run, check
#   container/check.sh --no-cache   the same from a cold build
#
# The checks: numbers sent to the published number port land in the volume's log; the server
# does not run as root; the command port answers, published on 127.0.0.1 only; `podman stop`
# exits 0 within 5 s with the log complete; a restart empties the log. It prints the image's
# size, the build time, the time from start to the server's `started` line, and the stop time.
#
# Needs root and podman (installed with apt-get when missing). The base images are the
# Dockerfile's defaults, or BUILD_IMAGE and RUNTIME_IMAGE from the environment; when the defaults
# cannot be pulled (no route to their registry), local ones are built from Debian packages with
# mmdebstrap: localhost/numbers-jdk17 (openjdk-17-jdk-headless) and localhost/numbers-jre17
# (openjdk-17-jre-headless), once, kept for the next run. The build stage reaches Maven Central
# with this machine's Java trust store mounted, /etc/ssl/certs/java/cacerts, where it exists.
# Not part of `./mvnw verify`: it needs root and minutes. Ports: CHECK_NUMBER_PORT (14000) and
# CHECK_ADMIN_PORT (19999) on this machine.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

image="localhost/numbers-server:check"
container="numbers-server-check"
volume="numbers-server-check-data"
number_port="${CHECK_NUMBER_PORT:-14000}"
admin_port="${CHECK_ADMIN_PORT:-19999}"
default_build_image="eclipse-temurin:17-jdk"
default_runtime_image="eclipse-temurin:17-jre"
debian_suite="bookworm"
no_cache=()
[[ "${1:-}" == "--no-cache" ]] && no_cache=(--no-cache)

failures=0
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
say() { echo "check: $*"; }
die() { echo "check: $*" >&2; exit 2; }

# podman with the OCI runtime and cgroup manager that work where cgroups cannot be delegated.
pm() { podman --runtime runc --cgroup-manager cgroupfs "$@"; }

[[ $EUID -eq 0 ]] || die "run it as root (podman with published ports and a volume owned by another user)"

missing=()
for tool in podman runc; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if (( ${#missing[@]} > 0 )); then
  command -v apt-get >/dev/null || die "missing: ${missing[*]}; install them"
  say "installing ${missing[*]} with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

say "$(podman --version), $(runc --version | head -1), on $(uname -sr), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
work="$(mktemp -d)"
cleanup() {
  pm rm -f -t 0 "$container" >/dev/null 2>&1 || true
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# seconds_since START_NS: the seconds since START_NS (date +%s%N), to the millisecond.
seconds_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# base_image VARIABLE DEFAULT LOCAL PACKAGES: the image to build FROM. The variable's value if it
# is set (pulled if need be); else the default if it can be pulled; else LOCAL, built from Debian
# packages once.
base_image() {
  local given="${!1:-}" default="$2" local_name="$3" packages="$4"
  if [[ -n "$given" ]]; then
    podman image exists "$given" || podman pull -q "$given" >/dev/null || die "$1=$given cannot be pulled"
    echo "$given"
    return
  fi
  if podman image exists "$default" || timeout 120 podman pull -q "$default" >/dev/null 2>&1; then
    echo "$default"
    return
  fi
  if ! podman image exists "$local_name"; then
    if ! command -v mmdebstrap >/dev/null; then
      command -v apt-get >/dev/null || die "$default cannot be pulled and there is no mmdebstrap to build $local_name"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null
    fi
    say "$default cannot be pulled: building $local_name from Debian $debian_suite packages ($packages)" >&2
    local start
    start="$(date +%s%N)"
    # Without manual pages, documentation and translations; the JDK's postinst still needs the
    # directory of the man pages it links to.
    # shellcheck disable=SC2016 # $1 is the hook's argument, the new root, expanded by mmdebstrap
    mmdebstrap --quiet --variant=apt --include="$packages" \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
      "$debian_suite" "$work/base.tar" >&2 || die "mmdebstrap could not build $local_name"
    podman import -q \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      "$work/base.tar" "$local_name" >/dev/null || die "podman could not import $local_name"
    rm -f "$work/base.tar"
    say "built $local_name in $(seconds_since "$start") s" >&2
  fi
  echo "$local_name"
}

build_image="$(base_image BUILD_IMAGE "$default_build_image" localhost/numbers-jdk17:$debian_suite \
  openjdk-17-jdk-headless,ca-certificates)"
runtime_image="$(base_image RUNTIME_IMAGE "$default_runtime_image" localhost/numbers-jre17:$debian_suite \
  openjdk-17-jre-headless,passwd)"
say "BUILD_IMAGE=$build_image RUNTIME_IMAGE=$runtime_image"

trust=()
[[ -f /etc/ssl/certs/java/cacerts ]] && trust=(--volume /etc/ssl/certs/java/cacerts:/etc/ssl/certs/java/cacerts:ro)
say "building $image${no_cache:+ (no cache)}; podman's output: $work/build.log"
start="$(date +%s%N)"
if ! podman build --network host "${no_cache[@]}" "${trust[@]}" \
    --build-arg BUILD_IMAGE="$build_image" --build-arg RUNTIME_IMAGE="$runtime_image" \
    -t "$image" . >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log"
  die "the image did not build (above)"
fi
build_seconds="$(seconds_since "$start")"
image_mb="$(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f", $1 / 1e6 }')"
runtime_mb="$(podman image inspect --format '{{.Size}}' "$runtime_image" | awk '{ printf "%.0f", $1 / 1e6 }')"
say "built in $build_seconds s; image $image_mb MB (its base, $runtime_image: $runtime_mb MB)"

pm rm -f -t 0 "$container" >/dev/null 2>&1 || true
podman volume rm -f "$volume" >/dev/null 2>&1 || true

# started_lines: how many `started` lines the container's stderr holds so far.
started_lines() { pm logs "$container" 2>&1 | grep -c ' INFO  started port=' || true; }

# await_started N: waits (60 s at most) for the Nth `started` line; prints the seconds it took.
await_started() {
  local start deadline
  start="$(date +%s%N)"
  deadline=$((SECONDS + 60))
  until (( $(started_lines) >= $1 )); do
    if (( SECONDS > deadline )) || [[ "$(pm inspect --format '{{.State.Running}}' "$container")" != true ]]; then
      return 1
    fi
    sleep 0.05
  done
  seconds_since "$start"
}

# started_after_process: from the container's process start to its last `started` line, by the
# timestamps of podman and of the server, not by polling.
started_after_process() {
  local process_ns line_ns
  process_ns="$(pm inspect --format '{{.State.StartedAt.UnixNano}}' "$container")"
  line_ns="$(date -d "$(pm logs "$container" 2>&1 | grep ' INFO  started port=' | tail -1 | cut -d' ' -f1)" +%s%N)"
  awk -v a="$process_ns" -v b="$line_ns" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}

log_path() { echo "$(podman volume inspect --format '{{.Mountpoint}}' "$volume")/numbers.log"; }

say "running $container: -p $number_port:4000 -p 127.0.0.1:$admin_port:9999 -v $volume:/data"
if ! pm run -d --name "$container" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    -p "$number_port:4000" -p "127.0.0.1:$admin_port:9999" -v "$volume:/data" "$image" >/dev/null; then
  die "the container did not start"
fi
if ! run_to_started="$(await_started 1)"; then
  pm logs "$container" 2>&1 | tail -n 20
  die "the server did not start within 60 s (its output above)"
fi
say "$(pm logs "$container" 2>&1 | grep ' INFO  started port=' | tail -1)"
say "start to started: $run_to_started s from podman run, $(started_after_process) s from the process start"

# Numbers through the published port: 1,000 unique ones, then 100 of them again.
expected="$work/expected"
seq 1 1000 >"$expected"
{ awk '{ printf "%09d\n", $1 }' "$expected"; seq 1 100 | awk '{ printf "%09d\n", $1 }'; } >"$work/numbers"
exec 3<>"/dev/tcp/127.0.0.1/$number_port"
cat "$work/numbers" >&3
exec 3<&-
log="$(log_path)"
deadline=$((SECONDS + 10))
until [[ -f "$log" && "$(wc -l <"$log")" -ge 1000 ]] || (( SECONDS > deadline )); do sleep 0.1; done
if [[ -f "$log" ]] && cmp -s <(sort -n "$log") "$expected"; then
  pass "1,100 numbers sent to 127.0.0.1:$number_port (published): the volume's log holds the 1,000 unique ones, each once"
else
  fail "numbers sent to 127.0.0.1:$number_port: the volume's log ($log) holds $(wc -l <"$log" 2>/dev/null || echo no) lines, not the 1,000 expected"
fi

pid="$(pm inspect --format '{{.State.Pid}}' "$container")"
uids="$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")"
user="$(pm top "$container" user | awk 'NR == 2 { print $1 }')"
if [[ -n "$uids" && " $uids " != *" 0 "* ]]; then
  pass "not root: the server (host pid $pid) runs as $user, uid $uids (real, effective, saved, fs)"
else
  fail "the server (host pid $pid) runs as uid $uids"
fi

published="$(pm port "$container" 9999/tcp)"
reply="$(exec 3<>"/dev/tcp/127.0.0.1/$admin_port"; printf 'WHY\nSTATS\n' >&3; head -n 2 <&3; exec 3<&-)"
if [[ "$published" == "127.0.0.1:$admin_port" && "$reply" == $'42\nunique_total=1000 duplicates_total=100 '* ]]; then
  pass "command port published on $published only; WHY and STATS answered: $(echo "$reply" | tr '\n' ' ')"
else
  fail "command port: published on '$published', replies: '$reply'"
fi

start="$(date +%s%N)"
stop_status=0
pm stop -t 10 "$container" >/dev/null || stop_status=$?
stop_seconds="$(seconds_since "$start")"
exit_code="$(pm inspect --format '{{.State.ExitCode}}' "$container")"
stopped="$(pm logs "$container" 2>&1 | grep ' INFO  stopped: ' | tail -1 || true)"
if (( stop_status == 0 )) && [[ "$exit_code" == 0 ]] \
    && awk -v s="$stop_seconds" 'BEGIN { exit !(s < 5) }' \
    && cmp -s <(sort -n "$log") "$expected" \
    && [[ "$stopped" == *"stopped: unique total 1000, duplicates 100, exit status 0"* ]]; then
  pass "podman stop: exit 0 after $stop_seconds s, the server's status 0, the log complete (1,000 lines); ${stopped#* INFO  }"
else
  fail "podman stop: exit $stop_status after $stop_seconds s, the server's status $exit_code, log $(wc -l <"$log") lines, '$stopped'"
fi
shutdown_ms="$(pm logs "$container" 2>&1 | grep -E ' INFO  (shutting down: SIGTERM|stopped: )' | tail -2 | cut -d' ' -f1 \
  | while read -r t; do date -d "$t" +%s%3N; done | awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }')"
say "stop: $stop_seconds s for podman stop; ${shutdown_ms:-?} ms from the server's 'shutting down' to its 'stopped'"

start="$(date +%s%N)"
pm start "$container" >/dev/null
if restart_to_started="$(await_started 2)"; then
  if [[ -f "$log" && ! -s "$log" ]]; then
    pass "a restart empties the log: $(log_path) is 0 bytes after the second start ($restart_to_started s to started)"
  else
    fail "after a restart the log holds $(wc -l <"$log") lines"
  fi
  pm stop -t 10 "$container" >/dev/null
else
  fail "the restarted server did not start within 60 s"
fi

say "figures: image $image_mb MB; build $build_seconds s${no_cache:+ (no cache)}; start to started $run_to_started s; podman stop $stop_seconds s"
if (( failures > 0 )); then
  echo "check: $failures check(s) FAILED"
  exit 1
fi
echo "check: all checks passed"
