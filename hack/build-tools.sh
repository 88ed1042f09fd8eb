#!/usr/bin/env bash
# Builds the local control plane and test tools from the Go module proxy into bin/ (ignored by git):
#   bin/etcd bin/kube-apiserver bin/kube-controller-manager bin/kube-scheduler bin/kubectl
#   bin/kwok bin/kwokctl bin/controller-gen
# Versions are pinned by hack/tools/go.mod. A binary is rebuilt only when go.mod/go.sum changed since
# it was built (bin/.tools-stamp holds their hash). A cold build takes about 8-10 minutes on 2 cores;
# each step prints a line so that it never looks hung.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root/hack/tools"
stamp=$(hash_files go.mod go.sum)
if [[ -f "$bin/.tools-stamp" && "$(cat "$bin/.tools-stamp")" != "$stamp" ]]; then
  echo "build-tools: hack/tools/go.mod changed; rebuilding all tools"
  rm -f "$bin"/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubectl,kwok,kwokctl,controller-gen}
fi
declare -A pkgs=(
  [controller-gen]=sigs.k8s.io/controller-tools/cmd/controller-gen
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [kwok]=sigs.k8s.io/kwok/cmd/kwok
  [kwokctl]=sigs.k8s.io/kwok/cmd/kwokctl
)
order=(controller-gen etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl)
want=("$@")
[[ ${#want[@]} -eq 0 ]] && want=("${order[@]}")
for name in "${want[@]}"; do
  pkg=${pkgs[$name]:?unknown tool $name}
  if [[ -x "$bin/$name" ]]; then continue; fi
  start=$(date +%s)
  echo "build-tools: building $name ($pkg) ..."
  # A heartbeat every 30 s so a long compile (kube-apiserver: ~5 min cold) never looks hung.
  heartbeat_start build-tools "$name"
  if ! go_build_static "$bin/$name" "$pkg"; then
    heartbeat_stop
    echo "build-tools: FAILED to build $name" >&2; exit 1
  fi
  heartbeat_stop
  echo "build-tools: built $name in $(( $(date +%s) - start ))s"
done
echo "$stamp" > "$bin/.tools-stamp"
