#!/usr/bin/env bash
# Builds the testbed's kind node image, as kind's own `kind build node-image --type file` does from a
# Kubernetes release's server tarball, from what the testbed built here:
#   build.sh IMAGE KIND KUBERNETES_BIN KUBEADM ETCD LOCAL_PATH_PROVISIONER SCRATCH [IMAGE...]
# The images (all but the node image) are built by the Docker Engine DOCKER_HOST names (which has the
# host's network for apt, and the real node's images PAUSE_IMAGE and COREDNS_IMAGE); the node image by
# the one KIND_DOCKER_HOST names, where kind runs it.
# kind reads the four image tarballs of a server tarball and fetches every other image it needs from
# the internet, so each image a kind node needs goes into kube-proxy.tar, whose `repositories` entry
# (written first: kind reads only the first of manifest.json and repositories) names them all.
set -euo pipefail

main() {
  local image="$1" kind="$2" k8s="$3" kubeadm="$4" etcd="$5" lpp="$6" scratch="$7"
  shift 7 # the rest: images of the testbed's own for the node to hold (its ingress controller)
  local here; here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  local version; version="$("$k8s/kubelet" --version | sed 's/^Kubernetes //')"
  local module; module="$(GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kind@$("$kind" version | awk '{print $2}')" | jq -r .Dir)"
  export DOCKER_BUILDKIT=0
  rm -rf "$scratch" && mkdir -p "$scratch"

  # The images, named as kubeadm, kind's containerd config and kind's manifests ask for them.
  local pause kindnetd provisioner helper
  pause="$(sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' "$module/images/base/files/etc/containerd/config.toml")"
  kindnetd="$(sed -n 's/^const kindnetdImage = "\(.*\)"/\1/p' "$module/pkg/build/nodeimage/const_cni.go")"
  provisioner="$(sed -n 's/^const storageProvisionerImage = "\(.*\)"/\1/p' "$module/pkg/build/nodeimage/const_storage.go")"
  helper="$(sed -n 's/^const storageHelperImage = "\(.*\)"/\1/p' "$module/pkg/build/nodeimage/const_storage.go")"
  local -a required; mapfile -t required < <("$kubeadm/kubeadm" config images list --kubernetes-version "$version")
  local etcdImage corednsImage
  etcdImage="$(printf '%s\n' "${required[@]}" | grep '/etcd:')"
  corednsImage="$(printf '%s\n' "${required[@]}" | grep '/coredns:')"

  build() { # name context [build args]
    local name="$1" context="$2"; shift 2
    docker build --quiet --network host --tag "$name" "$@" "$context" > /dev/null
  }
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    mkdir -p "$scratch/$c" && cp "$here/control-plane/Dockerfile" "$k8s/$c" "$scratch/$c/" && mv "$scratch/$c/$c" "$scratch/$c/component"
    build "registry.k8s.io/$c:$version" "$scratch/$c" --build-arg "COMPONENT=$c"
  done
  mkdir -p "$scratch/kube-proxy" && cp "$here/kube-proxy/Dockerfile" "$k8s/kube-proxy" "$scratch/kube-proxy/"
  build "registry.k8s.io/kube-proxy:$version" "$scratch/kube-proxy"
  mkdir -p "$scratch/etcd" && cp "$here/control-plane/Dockerfile" "$scratch/etcd/" && cp "$etcd/etcd" "$scratch/etcd/component"
  build "$etcdImage" "$scratch/etcd" --build-arg COMPONENT=etcd
  mkdir -p "$scratch/lpp" && cp "$here/control-plane/Dockerfile" "$scratch/lpp/" && cp "$lpp/local-path-provisioner" "$scratch/lpp/component"
  build "$provisioner" "$scratch/lpp" --build-arg COMPONENT=local-path-provisioner
  build "$kindnetd" "$here/kindnetd"
  docker tag "$PAUSE_IMAGE" "$pause"
  docker tag "$COREDNS_IMAGE" "$corednsImage"
  docker tag launchpad-testbed/debian:bookworm "$helper"

  # The server tarball kind reads.
  local bin="$scratch/tarball/kubernetes/server/bin"
  mkdir -p "$bin"
  printf '%s\n' "$version" > "$scratch/tarball/kubernetes/version"
  cp "$k8s/kubelet" "$k8s/kubectl" "$kubeadm/kubeadm" "$bin/"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do docker save -o "$bin/$c.tar" "registry.k8s.io/$c:$version"; done
  local extra=("registry.k8s.io/kube-proxy:$version" "$etcdImage" "$corednsImage" "$pause" "$kindnetd" "$provisioner" "$helper" "$@")
  mkdir -p "$scratch/proxy" && docker save "${extra[@]}" | tar -x -C "$scratch/proxy"
  # docker save writes Docker Hub's names short (kindest/kindnetd); kind compares them with the full
  # names its manifests use (docker.io/kindest/kindnetd) and would fetch those it does not find.
  jq -c 'with_entries(.key |= (if (split("/")[0] | test("[.:]") or . == "localhost") then . else "docker.io/" + (if contains("/") then . else "library/" + . end) end))' \
    "$scratch/proxy/repositories" > "$scratch/repositories" && mv "$scratch/repositories" "$scratch/proxy/repositories"
  (cd "$scratch/proxy" && tar -cf "$bin/kube-proxy.tar" repositories $(ls | grep -vx repositories))
  tar -czf "$scratch/kubernetes-server-linux-amd64.tar.gz" -C "$scratch/tarball" kubernetes

  # The base, then the node image, in the kind Docker Engine.
  rm -rf "$scratch/base" && cp -r "$here/base" "$scratch/base" && cp -r "$module/images/base/files" "$scratch/base/files"
  chmod -R a+rX "$scratch/base/files" && chmod 755 "$scratch/base/files/usr/local/bin/"* "$scratch/base/files/kind/bin/"*
  build launchpad-testbed/kind-base:bookworm "$scratch/base"
  docker save launchpad-testbed/kind-base:bookworm | DOCKER_HOST="$KIND_DOCKER_HOST" docker load > /dev/null
  DOCKER_HOST="$KIND_DOCKER_HOST" "$kind" build node-image --type file --base-image launchpad-testbed/kind-base:bookworm \
    --image "$image" "$scratch/kubernetes-server-linux-amd64.tar.gz"
  # The node image it replaced (1.4 GB) is left untagged: it goes.
  DOCKER_HOST="$KIND_DOCKER_HOST" docker image prune --force > /dev/null
  rm -rf "$scratch"
}

main "$@"; exit
