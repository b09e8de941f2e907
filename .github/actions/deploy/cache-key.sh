#!/usr/bin/env bash
# Outputs where the CLI's virtualenv lives (`path`) and its cache key (`key`): the runner's OS, the Python
# version and a hash of the CLI's sources in the action's own checkout.
set -euo pipefail

root=$(cd "$GITHUB_ACTION_PATH/../../.." && pwd)
python=$(python3 -c 'import platform; print(platform.python_version())')
paths=()
for path in pyproject.toml unkey_deploy buildpacks; do
  [[ -e "$root/$path" ]] && paths+=("$path")
done
sources=$(cd "$root" && find "${paths[@]}" -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum \
  | sha256sum | cut -c1-16)
{
  echo "path=${RUNNER_TEMP}/unkey-deploy-venv"
  echo "key=unkey-deploy-${RUNNER_OS:-Linux}-${RUNNER_ARCH:-X64}-py${python}-${sources}"
} >> "$GITHUB_OUTPUT"
