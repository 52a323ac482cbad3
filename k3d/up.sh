#!/usr/bin/env bash
# Creates cluster1 and cluster2 as in the book (Example 12-1 and 12-2): k3d clusters on the
# shared Docker network mc-network, traefik disabled, the acceptance CIDRs, and routes
# between the nodes' pod networks. Then builds the project image, imports it into both
# clusters, installs the extension with a shared trust anchor and one issuer per cluster
# (our identity and destination services stand in for Linkerd's control plane), and links
# the clusters both ways.
#
# Environment: IMAGE (default: the image `install` references, built here),
# MC_K3D_STATE_DIR (certificates; default .tmp/k3d), WAIT_TIMEOUT (default 300s).
set -euo pipefail
# errtrace: the ERR trap that names the failed step fires inside functions too.
set -E
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap on_error ERR

WAIT_TIMEOUT="${WAIT_TIMEOUT:-300s}"
declare -A POD_CIDR=([cluster1]=10.23.0.0/16 [cluster2]=10.22.0.0/16)
declare -A SERVICE_CIDR=([cluster1]=10.247.0.0/16 [cluster2]=10.246.0.0/16)

step "checking prerequisites"
need_docker
need k3d "install k3d v5 (https://k3d.io)"
need kubectl "install kubectl (https://kubernetes.io/docs/tasks/tools/)"
need_node
cd "$ROOT"

if ! docker network inspect "$NETWORK" >/dev/null 2>&1; then
  step "creating the Docker network $NETWORK"
  docker network create "$NETWORK" >/dev/null
fi

for c in "${CLUSTERS[@]}"; do
  if cluster_exists "$c"; then
    log "cluster $c exists already; keeping it (run k3d/down.sh for a fresh start)"
    continue
  fi
  step "creating cluster $c (pods ${POD_CIDR[$c]}, services ${SERVICE_CIDR[$c]})"
  k3d cluster create "$c" \
    --servers 1 \
    --network "$NETWORK" \
    --k3s-arg '--disable=traefik@server:*' \
    --k3s-arg "--cluster-cidr=${POD_CIDR[$c]}@server:*" \
    --k3s-arg "--service-cidr=${SERVICE_CIDR[$c]}@server:*" \
    --wait
done

node_ip() {
  kubectl --context "$(context "$1")" get node "k3d-$1-server-0" \
    -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}'
}

step "reading the node addresses on $NETWORK"
declare -A NODE_IP
for c in "${CLUSTERS[@]}"; do
  NODE_IP[$c]="$(node_ip "$c")"
  [ -n "${NODE_IP[$c]}" ] || fail "node k3d-$c-server-0 has no InternalIP (kubectl --context $(context "$c") get nodes -o wide)"
done

# Example 12-2: each node routes the other cluster's pod CIDR to the other node.
route() {
  local from="$1" to="$2"
  step "routing ${POD_CIDR[$to]} from $from via ${NODE_IP[$to]}"
  local routes
  # Read first: grep -q closing the pipe early could fail the pipeline under pipefail.
  routes="$(docker exec "k3d-$from-server-0" ip route)"
  if grep -q "^${POD_CIDR[$to]} " <<<"$routes"; then
    log "route exists already"
  else
    docker exec "k3d-$from-server-0" ip route add "${POD_CIDR[$to]}" via "${NODE_IP[$to]}"
  fi
}
route cluster1 cluster2
route cluster2 cluster1

step "finding the image the manifests reference"
if [ -z "${IMAGE:-}" ]; then
  IMAGE="$(mc install -o json | node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const d = JSON.parse(s).items.find((o) => o.kind === "Deployment");
      process.stdout.write(d.spec.template.spec.containers[0].image);
    });')"
fi
[ -n "$IMAGE" ] || fail "could not read the image from the install output"

step "building the image $IMAGE"
# BuildKit: the Dockerfile uses heredocs.
DOCKER_BUILDKIT=1 docker build --tag "$IMAGE" "$ROOT"

step "importing $IMAGE into both clusters"
k3d image import "$IMAGE" --cluster cluster1 --cluster cluster2

step "creating the shared trust anchor and one issuer per cluster in $STATE_DIR"
mkdir -p "$STATE_DIR"
if [ ! -f "$STATE_DIR/ca.crt" ]; then
  mc certs anchor --out "$STATE_DIR"
fi
for c in "${CLUSTERS[@]}"; do
  if [ ! -f "$STATE_DIR/$c/issuer.crt" ]; then
    mc certs issuer --ca-cert "$STATE_DIR/ca.crt" --ca-key "$STATE_DIR/ca.key" --out "$STATE_DIR/$c"
  fi
done

for c in "${CLUSTERS[@]}"; do
  ctx="$(context "$c")"
  step "installing on $c (extension, gateway, identity and destination services)"
  mc install --image "$IMAGE" --control-plane \
    --identity-trust-anchors-file "$STATE_DIR/ca.crt" \
    --identity-issuer-certificate-file "$STATE_DIR/$c/issuer.crt" \
    --identity-issuer-key-file "$STATE_DIR/$c/issuer.key" |
    kubectl --context "$ctx" apply -f -
done

for c in "${CLUSTERS[@]}"; do
  ctx="$(context "$c")"
  step "waiting for the Deployments on $c to be available (timeout $WAIT_TIMEOUT)"
  kubectl --context "$ctx" wait --for condition=established --timeout "$WAIT_TIMEOUT" crd/links.multicluster.linkerd.io
  for ns in linkerd linkerd-multicluster; do
    kubectl --context "$ctx" --namespace "$ns" wait --for condition=Available --timeout "$WAIT_TIMEOUT" deployment --all
  done
  step "waiting for the gateway of $c to get its LoadBalancer address"
  deadline=$((SECONDS + 120))
  until [ -n "$(kubectl --context "$ctx" -n linkerd-multicluster get service linkerd-gateway \
    -o jsonpath='{.status.loadBalancer.ingress[0].ip}')" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "service linkerd-gateway on $c got no LoadBalancer address (is k3d's servicelb running? kubectl --context $ctx -n kube-system get pods)"
    sleep 2
  done
done

# Each Link is made against its target and applied to its source; the API server address
# is the node's, which the other cluster reaches on mc-network (the kubeconfig's is the host's).
link() {
  local source="$1" target="$2"
  step "linking $source to $target"
  mc link --context "$(context "$target")" --cluster-name "$target" --image "$IMAGE" \
    --api-server-address "https://${NODE_IP[$target]}:6443" |
    kubectl --context "$(context "$source")" apply -f -
  step "waiting for the mirror controller for $target on $source"
  kubectl --context "$(context "$source")" --namespace linkerd-multicluster wait --for condition=Available \
    --timeout "$WAIT_TIMEOUT" deployment --selector "mirror.linkerd.io/cluster-name=$target"
}
link cluster1 cluster2
link cluster2 cluster1

STEP="done"
log "ready: contexts $(context cluster1) and $(context cluster2); run k3d/e2e.sh for the e2e suite, k3d/down.sh to remove it all"
