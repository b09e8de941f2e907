#!/usr/bin/env bash
# Creates or updates the pull request's preview comment (unkey_deploy.github_preview) with the deploy
# step's results; outside pull_request events it does nothing. It never fails the job: problems such
# as a token without `pull-requests: write` become warnings.
set -uo pipefail

case "${GITHUB_EVENT_NAME:-}" in
  pull_request | pull_request_target) ;;
  *) echo "Not a pull request event: no preview comment."; exit 0 ;;
esac

unkey_bin=$(command -v unkey || true)
python="${unkey_bin%/*}/python"
if [[ -z "$unkey_bin" || ! -x "$python" ]]; then
  echo "::warning title=Unkey preview comment::the CLI is not installed; no preview comment"
  exit 0
fi
"$python" -m unkey_deploy.github_preview || echo "::warning title=Unkey preview comment::could not comment (exit $?)"
exit 0
