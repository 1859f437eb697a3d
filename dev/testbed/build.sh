#!/usr/bin/env bash
# Builds one part of the testbed from its Go modules into the cache, keyed by its version:
#   build.sh <part> <version> <outdir> [extra]
# The caller (dev/testbed/parts.ts) decides versions and the cache folder; this script only builds.
# Each build happens in a scratch module next to <outdir> and is moved into place when complete, so an
# interrupted build never leaves a folder that looks finished.
set -euo pipefail

# Everything is in main, and the script exits on the line that calls it: bash reads a script as it runs
# it, so an edit to this file while a build runs must not be read as more commands.
main() {
part="$1"; version="$2"; out="$3"; extra="${4:-}"
work="$out.work"
rm -rf "$work" "$out.tmp"
mkdir -p "$work" "$out.tmp"
cd "$work"
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0

# A wrapper module: go.mod with the requirements and replaces given, and a tools.go that imports
# the packages to build so that `go mod tidy` records everything they need.
wrapper() {
  local requires="$1" replaces="$2"; shift 2
  {
    echo "module launchpad.testbed/$part"
    echo
    echo "go 1.26"
    echo
    printf '%s\n' "$requires"
    printf '%s\n' "$replaces"
  } > go.mod
  {
    echo "//go:build tools"
    echo
    echo "package tools"
    echo
    for pkg in "$@"; do echo "import _ \"$pkg\""; done
  } > tools.go
  go mod tidy
}

# A module's own replace and exclude directives, which only hold in the main module, for a wrapper to
# repeat: single lines and ( ) blocks, comments dropped, and those that point at a local path left out
# (they only hold in the module's own repository).
upstream_directives() {
  local module="$1" version="$2"
  curl -fsS "${GOPROXY_URL:-https://proxy.golang.org}/$module/@v/$version.mod" | awk '
    block != "" && /^\)/        { print; block = ""; next }
    block != ""                 { sub(/[[:space:]]*\/\/.*/, ""); if ($0 ~ /[^[:space:]]/ && $0 !~ /=>[[:space:]]*\.?\.?\//) print; next }
    /^(replace|exclude) \($/    { block = $1; print; next }
    /^(replace|exclude) /       { sub(/[[:space:]]*\/\/.*/, ""); if ($0 !~ /=>[[:space:]]*\.?\.?\//) print }
  '
}

case "$part" in
  kubernetes|kubeadm)
    # k8s.io/kubernetes refers to its staging modules by local paths; point each at its published
    # v0.<minor>.<patch> instead. kubeadm is a part of its own (only kind's node image needs it), built
    # the same way, so Go's build cache shares the packages.
    minor="${version#*.}"; minor="${minor%%.*}"; patch="${version##*.}"
    staging="v0.$minor.$patch"
    replaces="$(curl -fsS "${GOPROXY_URL:-https://proxy.golang.org}/k8s.io/kubernetes/@v/v$version.mod" \
      | sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging"'#p')"
    [ -n "$replaces" ] || { echo "no staging modules found in k8s.io/kubernetes v$version's go.mod" >&2; exit 1; }
    if [ "$part" = kubeadm ]; then
      commands=(k8s.io/kubernetes/cmd/kubeadm)
    else
      commands=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
        k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
    fi
    wrapper "require k8s.io/kubernetes v$version" "$replaces" "${commands[@]}"
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags="$ldflags -X $pkg.gitVersion=v$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    go build -trimpath -ldflags "$ldflags" -o "$out.tmp/" "${commands[@]}"
    ;;
  kind)
    # kind's CLI: it creates the kind stack's cluster, and builds its node image from our binaries.
    wrapper "require sigs.k8s.io/kind v$version" "" sigs.k8s.io/kind
    go build -trimpath -ldflags "-s -w" -o "$out.tmp/kind" sigs.k8s.io/kind
    ;;
  local-path-provisioner)
    # kind's default StorageClass "standard" (the database's volume on a kind cluster).
    wrapper "require github.com/rancher/local-path-provisioner v$version" "$(upstream_directives github.com/rancher/local-path-provisioner "v$version")" \
      github.com/rancher/local-path-provisioner
    go build -trimpath -ldflags "-s -w -X main.VERSION=v$version" -o "$out.tmp/local-path-provisioner" github.com/rancher/local-path-provisioner
    ;;
  etcd)
    # The etcd binary is etcdmain.Main, exactly as etcd's own main.go.
    wrapper "require go.etcd.io/etcd/server/v3 v$version" "" go.etcd.io/etcd/server/v3/etcdmain
    mkdir -p cmd/etcd
    printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > cmd/etcd/main.go
    go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" ./cmd/etcd
    ;;
  kwok)
    wrapper "require sigs.k8s.io/kwok v$version" "" sigs.k8s.io/kwok/cmd/kwok
    go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$version" -o "$out.tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
    # The kwok binary has no stages of its own (kwokctl writes them into its config): keep kwok's
    # stock node and pod stages from the same module beside it.
    stages="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
    mkdir -p "$out.tmp/stages"
    cp "$stages/node/fast/node-initialize.yaml" "$stages/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
      "$stages"/pod/fast/pod-*.yaml "$out.tmp/stages/"
    ;;
  pulumi)
    # pkg/v3 replaces sdk/v3 with a local path and the clipboard module with a fork; repeat the fork
    # and require sdk/v3 at the same version.
    replaces="$(upstream_directives github.com/pulumi/pulumi/pkg/v3 "v$version")"
    wrapper "require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)" "$replaces" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      -o "$out.tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    ;;
  pulumi-kubernetes)
    # The provider embeds schema-embed.json, which its generate step writes and the module zip lacks:
    # generate it in a writable copy of the module (the version the npm package asks for goes into the
    # schema), and build that copy through the wrapper.
    module="$extra"
    go mod download -json "github.com/pulumi/pulumi-kubernetes/provider/v4@$module" > download.json
    src="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' download.json)"
    cp -r "$src" provider && chmod -R u+w provider
    # (Its replace of the SDK by ../sdk only holds in pulumi-kubernetes' own repository.)
    (cd provider && go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 \
      && cd cmd/pulumi-resource-kubernetes && VERSION="$version" go run ./generate.go)
    wrapper "require github.com/pulumi/pulumi-kubernetes/provider/v4 $module" \
      "replace github.com/pulumi/pulumi-kubernetes/provider/v4 => ./provider" \
      github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes
    go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$version" \
      -o "$out.tmp/pulumi-resource-kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes
    ;;
  coredns)
    # The cluster DNS the real node's pods resolve Service names with (main package at the module root).
    wrapper "require github.com/coredns/coredns v$version" "" github.com/coredns/coredns
    go build -trimpath -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=v$version" -o "$out.tmp/coredns" github.com/coredns/coredns
    ;;
  kube-router)
    # Only its network policy controller runs in the testbed (the real node's bridge CNI and kube-proxy
    # do the rest): it enforces the app's NetworkPolicies with iptables and ipset.
    wrapper "require github.com/cloudnativelabs/kube-router/v2 v$version" "" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
    go build -trimpath -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$version" \
      -o "$out.tmp/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
    ;;
  traefik)
    # The real node's ingress controller, from a copy of its module with our patches (the folder $extra)
    # applied. Traefik swaps three modules for its forks (containous/mux, go-http-auth, minheap), which
    # the proxy serves at the versions v3.6 pins; no `go mod tidy`: it would also resolve its
    # dependencies' test imports at their newest versions, and drift.
    module=github.com/traefik/traefik/v3
    go mod download -json "$module@v$version" > download.json
    src="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' download.json)"
    cp -r "$src" traefik && chmod -R u+w traefik
    for p in "$extra"/traefik-*.patch; do patch --quiet --strip=1 --directory=traefik < "$p"; done
    printf 'module launchpad.testbed/%s\n\ngo 1.26\n\nrequire %s v%s\n\nreplace %s => ./traefik\n\n%s\n' "$part" "$module" "$version" "$module" \
      "$(upstream_directives "$module" "v$version")" > go.mod
    go build -trimpath -ldflags "-s -w -X $module/pkg/version.Version=v$version" -o "$out.tmp/traefik" "$module/cmd/traefik"
    ;;
  gofakes3)
    # The S3-compatible server (the one rclone's `serve s3` is built on) that holds a team's shared
    # state in a bucket; its bolt backend keeps the objects in one file across restarts. Built from a
    # copy of its module with our patches (the folder $extra) applied: v1.2.0's bolt backend reads an
    # object after its transaction and crashes (SIGBUS) on the copy Pulumi makes of the state.
    module=github.com/johannesboyne/gofakes3
    go mod download -json "$module@v$version" > download.json
    src="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' download.json)"
    cp -r "$src" gofakes3 && chmod -R u+w gofakes3
    for p in "$extra"/gofakes3-*.patch; do patch --quiet --strip=1 --directory=gofakes3 < "$p"; done
    wrapper "require $module v$version" "replace $module => ./gofakes3" "$module/cmd/gofakes3"
    go build -trimpath -ldflags "-s -w" -o "$out.tmp/gofakes3" "$module/cmd/gofakes3"
    ;;
  *)
    echo "unknown part $part" >&2; exit 2 ;;
esac

rm -rf "$out"
mv "$out.tmp" "$out"
cd / && rm -rf "$work"
}

main "$@"; exit
