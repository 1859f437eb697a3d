#!/usr/bin/env bash
# Builds one part of the testbed from its Go modules into the cache, keyed by its version:
#   build.sh <part> <version> <outdir> [extra]
# The caller (tools/testbed/build.ts) decides versions and the cache folder; this script only builds.
# Each build happens in a scratch module next to <outdir> and is moved into place when complete, so an
# interrupted build never leaves a folder that looks finished.
set -euo pipefail

# Everything is in main, so bash has read the whole script before it runs any of it.
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

case "$part" in
  kubernetes)
    # k8s.io/kubernetes refers to its staging modules by local paths; point each at its published
    # v0.<minor>.<patch> instead.
    minor="${version#*.}"; minor="${minor%%.*}"; patch="${version##*.}"
    staging="v0.$minor.$patch"
    replaces="$(curl -fsS "${GOPROXY_URL:-https://proxy.golang.org}/k8s.io/kubernetes/@v/v$version.mod" \
      | sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging"'#p')"
    [ -n "$replaces" ] || { echo "no staging modules found in k8s.io/kubernetes v$version's go.mod" >&2; exit 1; }
    wrapper "require k8s.io/kubernetes v$version" "$replaces" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubectl
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags="$ldflags -X $pkg.gitVersion=v$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    go build -trimpath -ldflags "$ldflags" -o "$out.tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubectl
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
    mod="$(curl -fsS "${GOPROXY_URL:-https://proxy.golang.org}/github.com/pulumi/pulumi/pkg/v3/@v/v$version.mod")"
    replaces="$(printf '%s\n' "$mod" | sed -n 's#^replace \([^ ]*\) => \([^.][^ ]* v[^ ]*\)$#replace \1 => \2#p')"
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
  *)
    echo "unknown part $part" >&2; exit 2 ;;
esac

rm -rf "$out"
mv "$out.tmp" "$out"
cd / && rm -rf "$work"
}

main "$@"
