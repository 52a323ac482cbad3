# Shared by k3d/up.sh, k3d/e2e.sh and k3d/down.sh (sourced, not run).
# The two clusters of the book's Example 12-1; contexts k3d-cluster1 and k3d-cluster2.
# shellcheck shell=bash

if [ "${BASH_VERSINFO[0]}" -lt 4 ]; then
  printf '%s: bash 4 or newer is needed (this is %s; on macOS: brew install bash)\n' "$(basename "$0")" "$BASH_VERSION" >&2
  exit 1
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NETWORK=mc-network
CLUSTERS=(cluster1 cluster2)
# Certificates and other state of the k3d setup (ignored by git, removed by down.sh).
STATE_DIR="${MC_K3D_STATE_DIR:-$ROOT/.tmp/k3d}"
STEP="starting"

log() {
  printf '[%s] %s\n' "$(basename "$0")" "$*" >&2
}

fail() {
  printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

# Every failure names the step it happened in; the command's own error is printed above it.
on_error() {
  local code=$?
  printf '[%s] failed (exit %s) while: %s\n' "$(basename "$0")" "$code" "$STEP" >&2
  exit "$code"
}

step() {
  STEP="$*"
  log "$*"
}

need() {
  command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed: $2"
}

need_docker() {
  need docker "install Docker (https://docs.docker.com/engine/install/)"
  docker info >/dev/null 2>&1 || fail "the Docker daemon is not reachable: start it, or check that this user may use it (docker info)"
}

need_node() {
  need node "install Node.js 20 or newer (https://nodejs.org)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || fail "Node.js $(node --version) is too old: install Node.js 20 or newer"
  [ -d "$ROOT/node_modules" ] || fail "dependencies are not installed: run npm ci in $ROOT"
}

context() {
  printf 'k3d-%s' "$1"
}

cluster_exists() {
  k3d cluster get "$1" >/dev/null 2>&1
}

mc() {
  node "$ROOT/bin/multicluster.js" "$@"
}
