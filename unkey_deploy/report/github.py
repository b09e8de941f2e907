"""GitHub Actions: plain progress plus workflow commands, step outputs and a job summary.

Active when GITHUB_ACTIONS=true. Workflow commands (`::group::`, `::error::`) go to the progress stream;
the runner reads them from stdout and stderr alike. Outputs are appended to $GITHUB_OUTPUT with a random
heredoc delimiter, so any value (even multi-line) stays one output. The job summary is Markdown appended
to $GITHUB_STEP_SUMMARY.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from unkey_deploy.report import safe, shown_status
from unkey_deploy.report.plain import PlainReporter

if TYPE_CHECKING:
    from unkey_deploy.pipeline import DeployResult

escape_data = safe.command_data  # the message part of a workflow command: newlines would end the command
escape_property = safe.command_property  # a `key=value` property of a workflow command (title, file, ...)


class GitHubReporter(PlainReporter):
    """Plain lines, with each step's log collapsed into a `::group::` and shielded from command parsing.

    Log lines come from builds (user code): between `::stop-commands::TOKEN` and `::TOKEN::` the runner
    treats them as text, so a line such as `::add-mask::...` printed by a Dockerfile does nothing.
    GitHub does not nest groups: a step inside an open group logs into that group.
    """

    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        super().__init__(stream, verbose=verbose)
        self._group_open = False
        self._step_groups: set[str] = set()
        self._stop_token: str | None = None

    def _line(self, line: str) -> None:
        # between ::stop-commands:: and its token the runner reads no commands: no need to quote `::`
        self._emit(safe.text(line, safe.MAX_LINE, shield=self._stop_token is None))

    def group(self, title: str) -> None:
        self._close_group()
        self._emit(f"::group::{escape_data(title)}")
        self._group_open = True

    def end_group(self) -> None:
        self._close_group()

    def step_started(self, step_id: str, name: str) -> None:
        if not self._group_open:
            self.group(name)
            self._step_groups.add(step_id)
        super().step_started(step_id, name)

    def step_log(self, step_id: str, line: str) -> None:
        self._logs.setdefault(step_id, []).append(line)
        self._stop_commands()
        self._line(f"    {line}")

    def step_finished(self, step_id: str, *, ok: bool = True, cached: bool = False, detail: str = "") -> None:
        if step_id in self._step_groups:
            self._step_groups.discard(step_id)
            self._close_group()
        self._resume_commands()
        if not ok and self._logs.get(step_id):
            self._stop_commands()  # the tail of the log is printed again, outside the collapsed group
        super().step_finished(step_id, ok=ok, cached=cached, detail=detail)
        self._resume_commands()

    def close(self) -> None:
        self._close_group()

    def _stop_commands(self) -> None:
        if self._stop_token is None:
            self._stop_token = secrets.token_hex(16)
            self._emit(f"::stop-commands::{self._stop_token}")

    def _resume_commands(self) -> None:
        if self._stop_token is not None:
            self._emit(f"::{self._stop_token}::")
            self._stop_token = None

    def _close_group(self) -> None:
        self._resume_commands()
        if self._group_open:
            self._emit("::endgroup::")
            self._group_open = False


def error_annotation(message: str, title: str) -> str:
    return f"::error title={escape_property(title)}::{escape_data(message)}"


def append_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append step outputs to a $GITHUB_OUTPUT file in heredoc form, one fresh delimiter per value."""
    chunks = []
    for name, value in outputs.items():
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        while delimiter in value:  # pragma: no cover - 128 random bits
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    with path.open("a", encoding="utf-8") as file:
        file.write("".join(chunks))


def outputs_for(result: DeployResult, url: str) -> dict[str, str]:
    return {
        "deployment-id": result.deployment_id or "",
        "status": shown_status(result.status) if result.status else "",
        "url": url,
        "hostnames": json.dumps(list(result.hostnames), separators=(",", ":")),
        "image": result.image or "",
    }


_cell = safe.markdown  # text as one Markdown table cell: no syntax, no HTML, no line breaks


def _code(value: str) -> str:
    return f"<code>{_cell(value)}</code>"


def commit_link(sha: str | None, env: Mapping[str, str]) -> str:
    """The short SHA, linked to the commit on GitHub when it is a commit SHA (hex)."""
    import re

    if not sha:
        return "none"
    server, repository = env.get("GITHUB_SERVER_URL", "https://github.com"), env.get("GITHUB_REPOSITORY")
    if not repository or not re.fullmatch(r"[0-9a-fA-F]{4,64}", sha):
        return _code(sha[:40])
    return safe.markdown_link(sha[:7], f"{server}/{repository}/commit/{sha}")


def summary_markdown(result: DeployResult, env: Mapping[str, str], failed_step: str | None = None) -> str:
    """The job summary: a heading and a table; failures add the failing step and the error."""
    from unkey_deploy.report.urls import url_for

    status = shown_status(result.status) if result.status else "unknown"
    ready = result.ready
    where = f"{result.project}/{result.app} to {result.environment}"
    unverified = ready and result.verification is not None and not result.verification.ok
    if unverified:
        title = "❌ Deployed, but verification failed:"
    else:
        title = "✅ Deployed" if ready else "❌ Deployment failed:"
    heading = f"### {title} {_cell(where)}"
    urls = [url_for(h) for h in result.hostnames]
    rows = [
        ("Deployment", _code(str(result.deployment_id or "none"))),
        ("Status", _cell(status.title())),
        ("Environment", _cell(str(result.environment or ""))),
        ("Branch", _code(str(result.branch or ""))),
        ("Commit", commit_link(result.commit, env)),
        ("Image", _code(str(result.image or ""))),
        ("Domains", "<br>".join(safe.markdown_link(u, u) for u in urls[:20]) or "none"),
        ("Duration", f"{(result.duration_ms or 0) / 1000:.1f}s"),
    ]
    if not ready:
        rows.append(("Failed step", _cell(failed_step or "unknown")))
        rows.append(("Error", _cell(str(result.error or "no reason given"))))
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return f"{heading}\n\n| | |\n|---|---|\n{table}\n\n"


def failure_markdown(command: str, step: str, message: str) -> str:
    """The job summary of a command that failed before a deployment existed (build, push, API refusal)."""
    return (
        f"### ❌ {_cell(command)} failed\n\n| | |\n|---|---|\n"
        f"| Failed step | {_cell(step)} |\n| Error | {_cell(message)} |\n\n"
    )


def append_summary(path: Path, markdown: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(markdown)
