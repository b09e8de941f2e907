#!/usr/bin/env bash
# Sets the output `missing=true` when the runner has no python3 >= 3.11 (the next step installs one).
set -euo pipefail

if command -v python3 >/dev/null && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "missing=false" >> "$GITHUB_OUTPUT"
else
  echo "missing=true" >> "$GITHUB_OUTPUT"
fi
