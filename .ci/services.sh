#!/usr/bin/env bash
# Start what the Docker tests need: dockerd, two local registries (plain and htpasswd-protected) and
# stand-in base images built offline from Debian packages. Idempotent: a second run reuses what runs.
#
# Writes $UNKEY_CI_DIR/services.env (default /tmp/unkey-ci/services.env) for the tests:
#   UNKEY_TEST_REGISTRY, UNKEY_TEST_AUTH_REGISTRY, UNKEY_TEST_AUTH_USERNAME, UNKEY_TEST_AUTH_PASSWORD,
#   UNKEY_BASE_IMAGES (JSON: official base image name -> local stand-in).
# Never fails: whatever cannot start is reported, and the tests that need it skip.
set -uo pipefail

STATE_DIR="${UNKEY_CI_DIR:-/tmp/unkey-ci}"
CACHE_DIR="${UNKEY_CI_CACHE:-/var/cache/unkey-deploy-ci}"
MIRROR="${UNKEY_CI_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker
PLAIN_PORT=5001
AUTH_PORT=5002
AUTH_USER=unkey-ci

mkdir -p "$STATE_DIR" "$CACHE_DIR"
ENV_FILE="$STATE_DIR/services.env"

log() { echo "services: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

install_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v docker-registry >/dev/null || missing+=(docker-registry)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v htpasswd >/dev/null || missing+=(apache2-utils)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y -q "${missing[@]}" </dev/null >"$STATE_DIR/apt.log" 2>&1 \
        || { as_root apt-get update -q </dev/null >>"$STATE_DIR/apt.log" 2>&1 \
             && as_root apt-get install -y -q "${missing[@]}" </dev/null >>"$STATE_DIR/apt.log" 2>&1; } \
        || log "apt-get install failed (see $STATE_DIR/apt.log)"
}

start_dockerd() {
    if "$DOCKER" info >/dev/null 2>&1; then return 0; fi
    if ! command -v dockerd >/dev/null; then log "dockerd is not installed"; return 1; fi
    log "starting dockerd"
    as_root setsid dockerd </dev/null >"$STATE_DIR/dockerd.log" 2>&1 &
    for _ in $(seq 60); do
        "$DOCKER" info >/dev/null 2>&1 && return 0
        sleep 1
    done
    log "dockerd did not answer within 60 s; last lines of $STATE_DIR/dockerd.log:"
    tail -n 5 "$STATE_DIR/dockerd.log" >&2
    return 1
}

# Prints the HTTP status of the registry API on a port, or 000 when nothing answers.
registry_status() {
    curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$1/v2/" 2>/dev/null || true
}

port_free() {
    python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# start_registry NAME PORT [HTPASSWD]: prints the port the registry listens on.
start_registry() {
    local name=$1 port=$2 htpasswd=${3:-} expected=200
    [ -n "$htpasswd" ] && expected=401
    local port_file="$STATE_DIR/$name.port"
    if [ -f "$port_file" ] && [ "$(registry_status "$(cat "$port_file")")" = "$expected" ]; then
        cat "$port_file"
        return 0
    fi
    while ! port_free "$port"; do port=$((port + 10)); done
    local config="$STATE_DIR/$name.yml"
    {
        echo "version: 0.1"
        echo "log: {level: warn}"
        echo "storage: {filesystem: {rootdirectory: $STATE_DIR/$name-data}, delete: {enabled: true}}"
        echo "http: {addr: 127.0.0.1:$port}"
        [ -n "$htpasswd" ] && echo "auth: {htpasswd: {realm: unkey-ci, path: $htpasswd}}"
    } >"$config"
    setsid docker-registry serve "$config" </dev/null >"$STATE_DIR/$name.log" 2>&1 &
    for _ in $(seq 30); do
        if [ "$(registry_status "$port")" = "$expected" ]; then
            echo "$port" >"$port_file"
            echo "$port"
            return 0
        fi
        sleep 0.5
    done
    log "registry $name did not start on 127.0.0.1:$port (see $STATE_DIR/$name.log)"
    return 1
}

# Stand-in base images: name, Debian packages (debootstrap --include), packages apt installs afterwards
# inside the root filesystem (npm's dependency graph is beyond debootstrap's resolver), image config.
FLAVOURS=(python node go debian)
declare -A PACKAGES=(
    [python]="python3,python3-venv,python3-pip,python-is-python3,ca-certificates"
    [node]="nodejs,ca-certificates"
    [go]="golang-go,ca-certificates,git"
    [debian]="ca-certificates,busybox"
)
declare -A APT_PACKAGES=([node]="npm")
declare -A CHANGES=(
    [python]="ENV PIP_CERT=$CA_BUNDLE|ENV PYTHONUNBUFFERED=1|CMD [\"python3\"]"
    [node]="ENV NODE_EXTRA_CA_CERTS=$CA_BUNDLE|CMD [\"node\"]"
    [go]="ENV GOFLAGS=-mod=mod|ENV GOTOOLCHAIN=local|ENV CGO_ENABLED=0|CMD [\"go\", \"version\"]"
    [debian]="CMD [\"sh\"]"
)
COMMON_CHANGES="ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|ENV LANG=C.UTF-8|ENV SSL_CERT_FILE=$CA_BUNDLE"

# The tarball name changes with the package list and the host CA bundle, so either change rebuilds.
rootfs_tarball() {
    local flavour=$1 key
    local packages="${PACKAGES[$flavour]}${APT_PACKAGES[$flavour]:+ + ${APT_PACKAGES[$flavour]}}"
    key=$(printf '%s\n%s\n' "$packages" "$(sha256sum "$CA_BUNDLE" 2>/dev/null)" | sha256sum | cut -c1-12)
    echo "$CACHE_DIR/$flavour-bookworm-$key.tar"
}

build_rootfs() {
    local flavour=$1 tarball=$2 root="$CACHE_DIR/$flavour-rootfs"
    as_root rm -rf "$root"
    if ! as_root debootstrap --variant=minbase --include="${PACKAGES[$flavour]}" bookworm "$root" "$MIRROR" \
        </dev/null >"$STATE_DIR/debootstrap-$flavour.log" 2>&1; then
        log "debootstrap $flavour failed (see $STATE_DIR/debootstrap-$flavour.log)"
        as_root rm -rf "$root"
        return 1
    fi
    if [ -n "${APT_PACKAGES[$flavour]:-}" ] && ! as_root chroot "$root" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends ${APT_PACKAGES[$flavour]} \
        </dev/null >>"$STATE_DIR/debootstrap-$flavour.log" 2>&1; then
        log "apt-get install in the $flavour root filesystem failed (see $STATE_DIR/debootstrap-$flavour.log)"
        as_root rm -rf "$root"
        return 1
    fi
    # The host trusts the proxy's certificate authority; builds inside the image need it too.
    [ -f "$CA_BUNDLE" ] && as_root cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
    # Behave like the official images: pip installs into the system Python, and no apt caches.
    as_root rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
    as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    as_root tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    as_root rm -rf "$root"
}

import_image() {
    local flavour=$1 tarball=$2 tag="unkey-standin/$1:bookworm" args=() change
    local marker="$STATE_DIR/image-$flavour.id"
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$(basename "$tarball")" ] \
        && "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
        return 0
    fi
    IFS='|' read -ra parts <<<"$COMMON_CHANGES|${CHANGES[$flavour]}"
    for change in "${parts[@]}"; do args+=(--change "$change"); done
    "$DOCKER" import "${args[@]}" "$tarball" "$tag" >/dev/null || { log "docker import $tag failed"; return 1; }
    basename "$tarball" >"$marker"
}

build_standins() {
    if ! command -v debootstrap >/dev/null; then log "debootstrap is not installed"; return 1; fi
    local flavour pids=() failed=0
    for flavour in "${FLAVOURS[@]}"; do
        local tarball
        tarball=$(rootfs_tarball "$flavour")
        if [ ! -f "$tarball" ]; then
            log "building the $flavour stand-in root filesystem"
            rm -f "$CACHE_DIR/$flavour"-bookworm-*.tar
            build_rootfs "$flavour" "$tarball" &
            pids+=($!)
        fi
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    for flavour in "${FLAVOURS[@]}"; do
        local tarball
        tarball=$(rootfs_tarball "$flavour")
        if [ -f "$tarball" ]; then import_image "$flavour" "$tarball" || failed=1; else failed=1; fi
    done
    return $failed
}

write_env() {
    local tmp="$ENV_FILE.tmp"
    : >"$tmp"
    [ -n "${plain_port:-}" ] && echo "UNKEY_TEST_REGISTRY=127.0.0.1:$plain_port" >>"$tmp"
    if [ -n "${auth_port:-}" ]; then
        echo "UNKEY_TEST_AUTH_REGISTRY=127.0.0.1:$auth_port" >>"$tmp"
        echo "UNKEY_TEST_AUTH_USERNAME=$AUTH_USER" >>"$tmp"
        echo "UNKEY_TEST_AUTH_PASSWORD=$(cat "$STATE_DIR/auth.password")" >>"$tmp"
    fi
    if [ "${standins_ok:-1}" = 0 ]; then
        local s=unkey-standin
        # Single-quoted: the file is sourced by the shell (`set -a; . services.env`) and read by the tests.
        echo "UNKEY_BASE_IMAGES='{\"python\":\"$s/python:bookworm\",\"node\":\"$s/node:bookworm\",\
\"golang\":\"$s/go:bookworm\",\"debian\":\"$s/debian:bookworm\",\"busybox\":\"$s/debian:bookworm\",\
\"gcr.io/distroless/static-debian12\":\"$s/debian:bookworm\"}'" >>"$tmp"
    fi
    chmod 600 "$tmp" && mv "$tmp" "$ENV_FILE"
}

main() {
    local started=$SECONDS
    install_packages
    if ! start_dockerd; then
        log "no Docker engine: the Docker tests will skip"
        write_env
        return 0
    fi
    if command -v docker-registry >/dev/null; then
        plain_port=$(start_registry registry "$PLAIN_PORT") || plain_port=""
        if command -v htpasswd >/dev/null; then
            [ -s "$STATE_DIR/auth.password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$STATE_DIR/auth.password")
            htpasswd -Bbc "$STATE_DIR/auth.htpasswd" "$AUTH_USER" "$(cat "$STATE_DIR/auth.password")" 2>/dev/null
            auth_port=$(start_registry auth-registry "$AUTH_PORT" "$STATE_DIR/auth.htpasswd") || auth_port=""
        fi
    else
        log "docker-registry is not installed: registry tests will skip"
    fi
    build_standins && standins_ok=0 || log "some stand-in base images are missing: tests needing them skip"
    write_env
    log "ready in $((SECONDS - started)) s; settings in $ENV_FILE"
}

main
exit 0
