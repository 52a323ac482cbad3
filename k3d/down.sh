#!/usr/bin/env bash
# Removes everything k3d/up.sh created: both clusters (with their kubeconfig contexts), the
# mc-network Docker network and the certificates. Safe to run when some of it is gone.
set -euo pipefail
# errtrace: the ERR trap that names the failed step fires inside functions too.
set -E
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap on_error ERR

step "checking prerequisites"
need_docker
need k3d "install k3d v5 (https://k3d.io)"

for c in "${CLUSTERS[@]}"; do
  if cluster_exists "$c"; then
    step "deleting cluster $c"
    k3d cluster delete "$c"
  else
    log "cluster $c does not exist"
  fi
done

if docker network inspect "$NETWORK" >/dev/null 2>&1; then
  step "removing the Docker network $NETWORK"
  docker network rm "$NETWORK" >/dev/null ||
    fail "network $NETWORK is still in use: docker network inspect $NETWORK shows by which containers"
fi

step "removing $STATE_DIR"
rm -rf "$STATE_DIR"
STEP="done"
log "removed"
