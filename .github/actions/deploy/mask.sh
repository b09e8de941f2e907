#!/usr/bin/env bash
# Registers every secret with the runner's log masking before anything else runs: the root key, the
# registry password, and each value of the `variables` and `runtime-variables` inputs and of the env files.
# Values are only expanded inside quotes and printed with printf: nothing in them is run as shell code.
set -euo pipefail

mask() {
  local value=$1
  value=${value%$'\r'}
  [[ -n "$value" ]] || return 0
  value=${value//'%'/%25}  # the runner unescapes %25, %0D and %0A in command data
  printf '::add-mask::%s\n' "$value"
}

mask_lines() {  # every line of a secret that spans lines
  local line
  while IFS= read -r line || [[ -n "$line" ]]; do
    mask "$line"
  done <<< "$1"
}

mask_values() {  # the VALUE of each KEY=VALUE line, as written and without surrounding quotes
  local line value
  while IFS= read -r line || [[ -n "$line" ]]; do
    line=${line%$'\r'}
    [[ "$line" == *=* && "$line" != \#* ]] || continue
    value=${line#*=}
    mask "$value"
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
      mask "${BASH_REMATCH[1]}"
    fi
  done
}

mask_lines "${UNKEY_ROOT_KEY:-}"
mask_lines "${DEPLOY_REGISTRY_PASSWORD:-}"
mask_values <<< "${DEPLOY_VARIABLES:-}"
if [[ -n "${DEPLOY_ENV_FILE:-}" && -f "$DEPLOY_ENV_FILE" ]]; then
  mask_values < "$DEPLOY_ENV_FILE"
fi
mask_values <<< "${DEPLOY_RUNTIME_VARIABLES:-}"
if [[ -n "${DEPLOY_RUNTIME_ENV_FILE:-}" && -f "$DEPLOY_RUNTIME_ENV_FILE" ]]; then
  mask_values < "$DEPLOY_RUNTIME_ENV_FILE"
fi
