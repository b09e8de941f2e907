#!/usr/bin/env bash
# Runs `unkey deploy` with the action's inputs (DEPLOY_* variables, set from `env:` in action.yml).
# Every value is expanded inside double quotes and passed as its own argument: nothing in an input is
# parsed as shell code. The root key and the registry password travel in the environment, never in argv.
set -euo pipefail

fail() {
  printf '::error title=Unkey deploy::%s\n' "$1"
  exit 2
}

flag() {  # a true/false input
  case "${1,,}" in
    true) return 0 ;;
    false | "") return 1 ;;
    *) fail "$2 must be true or false, not '$1'" ;;
  esac
}

[[ -n "${DEPLOY_IMAGE:-}" ]] || fail "the image input is required, e.g. image: ghcr.io/\${{ github.repository }}:\${{ github.sha }}"
[[ -n "${UNKEY_ROOT_KEY:-}" ]] || fail "the root-key input is empty: pass root-key: \${{ secrets.UNKEY_ROOT_KEY }} and check the secret exists"

args=(deploy "$DEPLOY_IMAGE" --project "${DEPLOY_PROJECT:-}" --app "${DEPLOY_APP:-default}"
  --env "${DEPLOY_ENVIRONMENT:-preview}" --timeout "${DEPLOY_TIMEOUT:-600}")
[[ -z "${DEPLOY_API_BASE_URL:-}" ]] || args+=(--api-base-url "$DEPLOY_API_BASE_URL")

build_inputs=(context root-dir dockerfile env-file variables registry registry-username registry-password)
if flag "${DEPLOY_BUILD:-false}" build; then
  args+=(--build)
  [[ -z "${DEPLOY_CONTEXT:-}" ]] || args+=(--context "$DEPLOY_CONTEXT")
  [[ -z "${DEPLOY_ROOT_DIR:-}" ]] || args+=(--root-dir "$DEPLOY_ROOT_DIR")
  [[ -z "${DEPLOY_DOCKERFILE:-}" ]] || args+=(--dockerfile "$DEPLOY_DOCKERFILE")
  [[ -z "${DEPLOY_ENV_FILE:-}" ]] || args+=(--env-file "$DEPLOY_ENV_FILE")
  [[ -z "${DEPLOY_REGISTRY:-}" ]] || args+=(--registry "$DEPLOY_REGISTRY")
  number=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    number=$((number + 1))
    line=${line%$'\r'}
    [[ -n "${line//[[:space:]]/}" && "$line" != \#* ]] || continue
    if [[ ! "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
      fail "variables, line $number: write KEY=VALUE, with a KEY of letters, digits and _"
    fi
    args+=(--var "$line")
  done <<< "${DEPLOY_VARIABLES:-}"

  # ghcr.io accepts the workflow's own token: use it unless credentials were given
  target=${DEPLOY_REGISTRY:-$DEPLOY_IMAGE}
  if [[ -z "${DEPLOY_REGISTRY_PASSWORD:-}" && "${target%%/*}" == ghcr.io ]]; then
    DEPLOY_REGISTRY_PASSWORD=${DEPLOY_GITHUB_TOKEN:-}
    DEPLOY_REGISTRY_USERNAME=${DEPLOY_REGISTRY_USERNAME:-${GITHUB_ACTOR:-}}
  fi
  [[ -z "${DEPLOY_REGISTRY_USERNAME:-}" ]] || export UNKEY_REGISTRY_USERNAME="$DEPLOY_REGISTRY_USERNAME"
  [[ -z "${DEPLOY_REGISTRY_PASSWORD:-}" ]] || export UNKEY_REGISTRY_PASSWORD="$DEPLOY_REGISTRY_PASSWORD"
else
  for input in "${build_inputs[@]}"; do
    var="DEPLOY_${input^^}"
    var=${var//-/_}
    [[ -z "${!var:-}" ]] || fail "the $input input only applies with build: true; set build: true or remove it"
  done
fi
if flag "${DEPLOY_DRY_RUN:-false}" dry-run; then
  flag "${DEPLOY_BUILD:-false}" build || fail "dry-run only applies with build: true; set build: true or remove it"
  args+=(--dry-run)
fi

while IFS= read -r line || [[ -n "$line" ]]; do
  read -r -a paths <<< "${line%$'\r'}"  # one or more paths per line (split on blanks, never globbed)
  for path in "${paths[@]}"; do
    args+=(--check "$path")
  done
done <<< "${DEPLOY_CHECK:-}"
if [[ -n "${DEPLOY_CHECK//[[:space:]]/}" ]]; then
  args+=(--check-timeout "${DEPLOY_CHECK_TIMEOUT:-60}")
fi
if flag "${DEPLOY_ROLLBACK_ON_FAILURE:-false}" rollback-on-failure; then
  args+=(--rollback-on-failure)
fi

# Runtime variables go to the environment first, so the deployment starts with them. Values reach
# `unkey env set` only through files (a private temp file for the runtime-variables input), never argv.
runtime_args=()
[[ -z "${DEPLOY_RUNTIME_ENV_FILE:-}" ]] || runtime_args+=(--from-file "$DEPLOY_RUNTIME_ENV_FILE")
runtime_dir=""
if [[ -n "${DEPLOY_RUNTIME_VARIABLES//[[:space:]]/}" ]]; then
  runtime_dir=$(mktemp -d)
  (umask 077 && printf '%s\n' "$DEPLOY_RUNTIME_VARIABLES" > "$runtime_dir/runtime.env")
  runtime_args+=(--from-file "$runtime_dir/runtime.env")
fi
unset DEPLOY_RUNTIME_VARIABLES
if (( ${#runtime_args[@]} )); then
  if flag "${DEPLOY_DRY_RUN:-false}" dry-run; then
    echo "Dry run: the runtime variables are not set."
  else
    env_args=(env set "${runtime_args[@]}" --project "${DEPLOY_PROJECT:-}" --app "${DEPLOY_APP:-default}"
      --env "${DEPLOY_ENVIRONMENT:-preview}")
    [[ -z "${DEPLOY_API_BASE_URL:-}" ]] || env_args+=(--api-base-url "$DEPLOY_API_BASE_URL")
    status=0
    unkey "${env_args[@]}" || status=$?
    [[ -z "$runtime_dir" ]] || rm -rf "$runtime_dir"
    (( status == 0 )) || fail "setting the runtime variables failed (exit $status); nothing was deployed"
  fi
fi
[[ -z "$runtime_dir" ]] || rm -rf "$runtime_dir"

unset DEPLOY_REGISTRY_PASSWORD DEPLOY_GITHUB_TOKEN DEPLOY_VARIABLES
exec unkey "${args[@]}"
