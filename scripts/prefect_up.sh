#!/usr/bin/env bash
# Start synthese under Prefect on this machine: a local Prefect server (127.0.0.1 only),
# the `synthese` process work pool, the `synthese-llm` task concurrency limit, the
# deployments of prefect.yaml and one worker. Idempotent: run it again after editing
# prefect.yaml to redeploy; what already runs is kept. Stop with scripts/prefect_down.sh.
#
# Environment: PORT (default 4200), PREFECT_HOME (default <repo>/.prefect),
# SYNTHESE_VENV (default <repo>/.venv), LLM_CONCURRENCY (default 1).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SYNTHESE_VENV:-$REPO/.venv}"
PORT="${PORT:-4200}"
LLM_CONCURRENCY="${LLM_CONCURRENCY:-1}"

if [[ ! -x "$VENV/bin/prefect" ]]; then
    echo "Erreur : $VENV/bin/prefect introuvable ; installez d'abord le projet dans $VENV." >&2
    exit 2
fi

# The worker and its flow runs inherit all of this: SYNTHESE_HOME is read by the pull step
# of prefect.yaml, the rest keeps everything local and silent.
export SYNTHESE_HOME="$REPO"
export PREFECT_HOME="${PREFECT_HOME:-$REPO/.prefect}"
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
export PREFECT_SERVER_API_HOST=127.0.0.1
export PREFECT_SERVER_API_PORT="$PORT"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export DO_NOT_TRACK=1
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export PATH="$VENV/bin:$PATH"

mkdir -p "$PREFECT_HOME"
cd "$REPO"
SERVER_PID="$PREFECT_HOME/synthese-server.pid"
WORKER_PID="$PREFECT_HOME/synthese-worker.pid"

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

healthy() {
    "$VENV/bin/python" - "$PREFECT_API_URL/health" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

# 1. Server. setsid: its own process group, so that prefect_down.sh stops it whole.
if alive "$SERVER_PID"; then
    echo "Serveur Prefect déjà lancé (PID $(cat "$SERVER_PID"))."
elif healthy; then
    echo "Un serveur Prefect répond déjà sur $PREFECT_API_URL : il est réutilisé."
else
    echo "Démarrage du serveur Prefect sur http://127.0.0.1:$PORT ..."
    setsid prefect server start --host 127.0.0.1 --port "$PORT" \
        >"$PREFECT_HOME/server.log" 2>&1 </dev/null &
    echo $! >"$SERVER_PID"
fi
for _ in $(seq 1 120); do
    healthy && break
    if ! alive "$SERVER_PID" && [[ -f "$SERVER_PID" ]]; then
        echo "Erreur : le serveur Prefect s'est arrêté ; voir $PREFECT_HOME/server.log." >&2
        exit 1
    fi
    sleep 1
done
if ! healthy; then
    echo "Erreur : le serveur Prefect ne répond pas après 120 s ; voir $PREFECT_HOME/server.log." >&2
    exit 1
fi

# 2. Work pool (created once), 3. concurrency limit on the model-calling tasks.
if ! prefect work-pool inspect synthese >/dev/null 2>&1; then
    prefect work-pool create synthese --type process >/dev/null
fi
prefect concurrency-limit create synthese-llm "$LLM_CONCURRENCY" >/dev/null

# 4. Deployments, non-interactively, from the project folder.
prefect deploy --all --no-prompt >"$PREFECT_HOME/deploy.log" 2>&1 || {
    echo "Erreur : échec du déploiement ; voir $PREFECT_HOME/deploy.log." >&2
    exit 1
}

# 5. Worker, in its own process group too (its flow runs are its children).
if alive "$WORKER_PID"; then
    echo "Worker déjà lancé (PID $(cat "$WORKER_PID"))."
else
    setsid prefect worker start --pool synthese --type process \
        --name "synthese-$(hostname)" --install-policy never \
        >"$PREFECT_HOME/worker.log" 2>&1 </dev/null &
    echo $! >"$WORKER_PID"
fi

cat <<EOF

synthese est prêt sous Prefect.
  Interface : http://127.0.0.1:$PORT   (journaux : $PREFECT_HOME/*.log)

Dans un autre terminal, préparez l'environnement :
  export PREFECT_API_URL=$PREFECT_API_URL PREFECT_HOME=$PREFECT_HOME

Lancer une synthèse (chemins relatifs au projet) :
  $VENV/bin/prefect deployment run 'synthese/consultation' \\
      -p export=data/raw/demo_enseignants_ia.csv -p 'question=["q_usage_ia"]' \\
      -p id_column=id_reponse --watch

Traiter les exports déposés dans data/raw/inbox/ :
  $VENV/bin/prefect deployment run 'synthese-inbox/inbox' --watch

Arrêter : $REPO/scripts/prefect_down.sh
EOF
