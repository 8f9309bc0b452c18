# shellcheck shell=bash
# Sourceable helper: run a private, throw-away dockerd (Debian docker.io 20.10)
# with the vfs storage driver, without touching /var/run/docker.sock.
#
#   . tests/e2e/dockerd.sh
#   d=$(mktemp -d /tmp/dk.XXXXXX)     # keep it short: unix socket paths < ~108 chars
#   dockerd_start "$d" || exit 1      # exports DOCKER_HOST=unix://$d/sock
#   docker ...
#   dockerd_stop "$d"                 # stops dockerd + its containerd, rm -rf $d/root
#
# DIR layout: root/ (data-root), exec/ (exec-root, containerd lives in
# exec/containerd), sock, pid, log.
#
# DOCKERD_STORAGE_DRIVER overrides the storage driver (default: vfs, which
# works everywhere; overlay2 needs a kernel/filesystem that allows overlay
# mounts, and is the driver that produces opaque `.wh..wh..opq` whiteouts).

_dockerd_wait_gone() { # PID SECONDS
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# Pids of the containerd (and shims) spawned by the dockerd using DIR.
_dockerd_containerd_pids() { # DIR
    local dir=$1 f
    for f in "$dir/exec/containerd/containerd.pid" "$dir/exec/containerd/daemon/containerd.pid"; do
        [[ -s $f ]] && cat "$f"
    done
    if command -v pgrep >/dev/null 2>&1; then
        pgrep -f -- "$dir/exec/containerd" || true
    fi
}

dockerd_start() { # DIR
    local dir=${1:?usage: dockerd_start DIR}
    local sock="$dir/sock" i
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd) || return 1
    sock="$dir/sock"
    if ((${#sock} > 100)); then
        echo "dockerd_start: socket path too long: $sock" >&2
        return 1
    fi
    if [[ -s $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        echo "dockerd_start: dockerd already running for $dir" >&2
        return 1
    fi
    rm -f "$dir/pid" "$sock"
    mkdir -p "$dir/root" "$dir/exec"
    dockerd --storage-driver "${DOCKERD_STORAGE_DRIVER:-vfs}" --data-root "$dir/root" --exec-root "$dir/exec" \
        -H "unix://$sock" --pidfile "$dir/pid" --iptables=false --bridge=none \
        --log-level=warn >"$dir/log" 2>&1 &
    local bgpid=$!
    for ((i = 0; i < 600; i++)); do
        if ! kill -0 "$bgpid" 2>/dev/null; then
            echo "dockerd_start: dockerd exited early; log:" >&2
            tail -n 30 "$dir/log" >&2
            return 1
        fi
        if [[ -S $sock ]] && docker -H "unix://$sock" version >/dev/null 2>&1; then
            export DOCKER_HOST="unix://$sock"
            # pidfile is written by dockerd itself; fall back to $! if absent.
            [[ -s $dir/pid ]] || echo "$bgpid" >"$dir/pid"
            return 0
        fi
        sleep 0.1
    done
    echo "dockerd_start: dockerd did not come up within 60s; log:" >&2
    tail -n 30 "$dir/log" >&2
    kill "$bgpid" 2>/dev/null
    return 1
}

dockerd_stop() { # DIR
    local dir=${1:?usage: dockerd_stop DIR} pid cpids p
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd) || return 1
    cpids=$(_dockerd_containerd_pids "$dir" | sort -u)
    if [[ -s $dir/pid ]]; then
        pid=$(cat "$dir/pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            if ! _dockerd_wait_gone "$pid" 30; then
                echo "dockerd_stop: dockerd $pid did not exit in 30s, SIGKILL" >&2
                kill -KILL "$pid" 2>/dev/null
                _dockerd_wait_gone "$pid" 5
            fi
        fi
    fi
    # dockerd normally takes its containerd down with it; make sure.
    cpids=$( { echo "$cpids"; _dockerd_containerd_pids "$dir"; } | sort -u)
    for p in $cpids; do
        [[ $p =~ ^[0-9]+$ ]] || continue
        kill -TERM "$p" 2>/dev/null || continue
        if ! _dockerd_wait_gone "$p" 10; then
            kill -KILL "$p" 2>/dev/null
            _dockerd_wait_gone "$p" 5
        fi
    done
    # Unmount anything still mounted below DIR (netns, shm, overlay leftovers).
    if command -v findmnt >/dev/null 2>&1; then
        { findmnt -rn -o TARGET | grep -F -- "$dir/" | sort -r | while read -r m; do
            umount -l "$m" 2>/dev/null || true
        done; } || true
    fi
    rm -rf "$dir/root" "$dir/exec"
    rm -f "$dir/sock" "$dir/pid"
    if [[ ${DOCKER_HOST:-} == "unix://$dir/sock" ]]; then
        unset DOCKER_HOST
    fi
    return 0
}

# fresh_daemon [DRIVER]: stop the previous test daemon (if any) and start
# a new, empty one in $DK; for tests sourced after lib.sh (uses its at_exit
# and $T). DRIVER is the storage driver to prefer (DOCKERD_STORAGE_DRIVER
# still wins); if overlay2 cannot start, vfs is used. Call it at the top
# level, not in a test body, so that DOCKER_HOST reaches the following
# tests. If dockerd cannot start, DOCKER_HOST points nowhere and those
# tests fail.
DK=""
fresh_daemon() {
    if [ -n "$DK" ]; then
        dockerd_stop "$DK"
        rm -rf "$DK"
    fi
    DK=$(mktemp -d /tmp/dk.XXXXXX)
    export DK
    at_exit "dockerd_stop $DK; rm -rf $DK"
    export DOCKERD_STORAGE_DRIVER=${DOCKERD_STORAGE_DRIVER:-${1:-vfs}}
    dockerd_start "$DK" 2>"$T/dockerd.err" && return 0
    if [ "$DOCKERD_STORAGE_DRIVER" = overlay2 ]; then
        echo "# overlay2 dockerd failed, using vfs"
        dockerd_stop "$DK"
        DOCKERD_STORAGE_DRIVER=vfs
        dockerd_start "$DK" 2>"$T/dockerd.err" && return 0
    fi
    cat "$T/dockerd.err"
    echo "# dockerd_start failed in $DK"
    export DOCKER_HOST="unix://$DK/no-daemon"
}
