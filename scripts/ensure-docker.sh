#!/usr/bin/env bash
# Make sure a Docker engine answers on the default socket.
#
# Usage: scripts/ensure-docker.sh PIDFILE
#   If `docker info` already works, exit 0 and write nothing: the engine is not ours to stop.
#   Otherwise start dockerd in the background, wait until it answers, and write its PID to
#   PIDFILE so the caller can stop exactly the daemon it started (kill "$(cat PIDFILE)").
#
# Environment:
#   SPARKLAB_DOCKERD_LOG           daemon log file (default /tmp/sparklab-dockerd.log)
#   SPARKLAB_DOCKERD_STORAGE       force a storage driver (default: overlay2, then vfs)
#   SPARKLAB_DOCKERD_WAIT_SECONDS  how long to wait for the daemon (default 60)
set -euo pipefail

pidfile="${1:?usage: $0 PIDFILE}"
log="${SPARKLAB_DOCKERD_LOG:-/tmp/sparklab-dockerd.log}"
wait_seconds="${SPARKLAB_DOCKERD_WAIT_SECONDS:-60}"
socket="unix:///var/run/docker.sock"

say() { printf '%s\n' "ensure-docker: $*" >&2; }

if docker info >/dev/null 2>&1; then
    say "a Docker engine already answers; nothing started"
    exit 0
fi

command -v dockerd >/dev/null || { say "dockerd not found (apt-get install docker.io)"; exit 1; }

# Start dockerd with one storage driver; succeed once `docker info` answers.
start_with() {
    local driver="$1" pid waited=0
    say "starting dockerd (storage driver ${driver}), log ${log}"
    dockerd --host "${socket}" --storage-driver "${driver}" >>"${log}" 2>&1 &
    pid=$!
    while (( waited < wait_seconds )); do
        if ! kill -0 "${pid}" 2>/dev/null; then
            say "dockerd with ${driver} exited; see ${log}"
            return 1
        fi
        if docker info >/dev/null 2>&1; then
            printf '%s\n' "${pid}" > "${pidfile}"
            say "dockerd answers (pid ${pid}, storage driver ${driver})"
            return 0
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "dockerd with ${driver} did not answer within ${wait_seconds}s; stopping it"
    kill "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
    return 1
}

if [[ -n "${SPARKLAB_DOCKERD_STORAGE:-}" ]]; then
    drivers=("${SPARKLAB_DOCKERD_STORAGE}")
else
    drivers=(overlay2 vfs)
fi

for driver in "${drivers[@]}"; do
    if start_with "${driver}"; then
        exit 0
    fi
done
say "could not start dockerd; see ${log}"
exit 1
