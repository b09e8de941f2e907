#!/usr/bin/env bash
# Installs the CLI from the action's own checkout into $UNKEY_VENV (unless the cache restored it) and
# puts its bin directory on PATH for the following steps. Only the package registry is contacted.
set -euo pipefail

root=$(cd "$GITHUB_ACTION_PATH/../../.." && pwd)
if [[ -x "$UNKEY_VENV/bin/unkey" ]]; then
  echo "Using the cached CLI in $UNKEY_VENV"
else
  python3 -m venv "$UNKEY_VENV"
  "$UNKEY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$root"
fi
"$UNKEY_VENV/bin/unkey" --version
echo "$UNKEY_VENV/bin" >> "$GITHUB_PATH"
