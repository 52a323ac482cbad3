#!/usr/bin/env bash
# Runs the e2e suite against the k3d clusters that k3d/up.sh created. The tests read the
# contexts from E2E_CONTEXTS; what only the dev clusters can do is skipped with a reason.
# Arguments: e2e test files to run (default: all of them, as `npm run test:e2e`).
set -euo pipefail
# errtrace: the ERR trap that names the failed step fires inside functions too.
set -E
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap on_error ERR

step "checking prerequisites"
need kubectl "install kubectl (https://kubernetes.io/docs/tasks/tools/)"
need_node
need npm "install npm (it comes with Node.js)"
for c in "${CLUSTERS[@]}"; do
  kubectl config get-contexts "$(context "$c")" >/dev/null 2>&1 ||
    fail "no kubeconfig context $(context "$c"): run k3d/up.sh first"
  kubectl --context "$(context "$c")" get --raw /readyz >/dev/null 2>&1 ||
    fail "the API server of $(context "$c") does not answer: is the cluster running? (k3d cluster list)"
done
# Test files given relative to the caller's directory; the suite runs from the project root.
files=()
for f in "$@"; do
  [ -f "$f" ] || fail "no such test file: $f"
  files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
cd "$ROOT"

E2E_CONTEXTS="$(context cluster1),$(context cluster2)"
export E2E_CONTEXTS
step "running the e2e suite against $E2E_CONTEXTS"
if [ "${#files[@]}" -gt 0 ]; then
  node --import tsx --test --test-concurrency=1 "${files[@]}"
else
  npm run test:e2e
fi
STEP="done"
