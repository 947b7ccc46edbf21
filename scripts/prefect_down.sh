#!/usr/bin/env bash
# Stop what scripts/prefect_up.sh started: the worker and the flow runs it is running, then
# the Prefect server, by the PIDs recorded under PREFECT_HOME. The database, the reports and
# Prefect's history are kept; an interrupted run resumes where it stopped when run again.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFECT_HOME="${PREFECT_HOME:-$REPO/.prefect}"

running() {  # running <pid>...: true while one of them (or its process group) is alive
    local p
    for p in "$@"; do
        kill -0 -- "-$p" 2>/dev/null && return 0
        kill -0 "$p" 2>/dev/null && return 0
    done
    return 1
}

signal() {  # signal <SIG> <pid>...: the process group if the PID leads one, else the PID
    local sig="$1" p
    shift
    for p in "$@"; do
        kill "-$sig" -- "-$p" 2>/dev/null || kill "-$sig" "$p" 2>/dev/null || true
    done
}

stop() {  # stop <pid file> <what>
    local file="$1" what="$2" pid children
    if [[ ! -f "$file" ]]; then
        echo "$what : pas de PID enregistré ($file)."
        return 0
    fi
    pid="$(cat "$file")"
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "$what : déjà arrêté (PID $pid)."
        rm -f "$file"
        return 0
    fi
    # The worker runs each flow run in a child process with a session of its own: collect
    # them first, since they would outlive the worker. Both were started with setsid, so
    # each PID leads its own process group.
    children="$(pgrep -P "$pid" || true)"
    # shellcheck disable=SC2086
    signal TERM "$pid" $children
    for i in $(seq 1 40); do  # up to 20 s for the runs to report their state to the server
        # shellcheck disable=SC2086
        running "$pid" $children || break
        # A Prefect worker only stops taking new runs on a first signal and waits, without
        # end; a second one makes it exit (and uvicorn too).
        [[ $i -eq 4 ]] && signal TERM "$pid"
        sleep 0.5
    done
    # shellcheck disable=SC2086
    signal KILL "$pid" $children
    rm -f "$file"
    echo "$what arrêté (PID $pid${children:+ ; exécutions en cours : $(echo $children)})."
}

stop "$PREFECT_HOME/synthese-worker.pid" "Worker"
stop "$PREFECT_HOME/synthese-server.pid" "Serveur Prefect"
