#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl and etcd from the Go module
# proxy with the machine's Go, into a cache directory keyed by version.
# Usage: build-kube.sh <kube-version> <etcd-version> <cache-dir>
set -euo pipefail
KUBE_VERSION=${1:?kube version, e.g. v1.36.3}
ETCD_VERSION=${2:?etcd version, e.g. v3.6.8}
CACHE=${3:?cache dir}
OUT="$CACHE/kube-$KUBE_VERSION-etcd-$ETCD_VERSION"
BINS=(kube-apiserver kube-controller-manager kubectl etcd)

have_all() { for b in "${BINS[@]}"; do [ -x "$OUT/$b" ] || return 1; done; }
if have_all; then echo "$OUT"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-kube: no Go toolchain on PATH. Install Go >= 1.24 (https://go.dev/dl) and retry." >&2
  exit 3
fi

STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mc-kube-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT.partial"

echo "build-kube: resolving k8s.io/kubernetes@$KUBE_VERSION (staging $STAGING_VERSION)" >&2
mkdir -p "$WORK/kube" "$WORK/etcd"
(
  cd "$WORK/kube"
  go mod init mc.local/kubebuild >/dev/null 2>&1
  go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" > dl.json
  moddir=$(sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p' dl.json)
  {
    echo "module mc.local/kubebuild"
    echo
    echo "go 1.24"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    # Every staging module the release maps to ./staging must be pinned to the matching tag.
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$moddir/go.mod" | awk -v v="$STAGING_VERSION" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  echo "build-kube: downloading modules" >&2
  GOFLAGS=-mod=mod go mod tidy >&2
  for b in kube-apiserver kube-controller-manager kubectl; do
    echo "build-kube: building $b (first build takes several minutes on 2 cores)" >&2
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${KUBE_VERSION#v1.}" -o "$OUT.partial/$b" "k8s.io/kubernetes/cmd/$b"
  done
)
(
  cd "$WORK/etcd"
  cat > go.mod <<MOD
module mc.local/etcdbuild

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  echo "build-kube: building etcd $ETCD_VERSION" >&2
  GOFLAGS=-mod=mod go mod tidy >&2
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$OUT.partial/etcd" go.etcd.io/etcd/server/v3
)
rm -rf "$OUT"
mv "$OUT.partial" "$OUT"
echo "$OUT"
