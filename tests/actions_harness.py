"""Run a composite action's steps the way the GitHub runner does, on this machine.

The harness reads action.yml and, for each step in order:
- evaluates `if:` (default `success()`), and the `${{ }}` expressions of `env:` and `working-directory:`
  from the `inputs` (caller's values, else the action's defaults), `steps.<id>.outputs`, `github` and
  `runner` contexts. Composite actions get no INPUT_* variables: a script sees only what `env:` gives it;
- runs `run:` with `bash --noprofile --norc -eo pipefail FILE` in a fresh GITHUB_OUTPUT/GITHUB_ENV/
  GITHUB_PATH/GITHUB_STEP_SUMMARY, then applies them as the runner does (outputs to the step, env and
  path to the following steps, the summary to the job);
- does not run `uses:` steps (no network): it records them and whether their `if:` would let them run;
- reads workflow commands from the step's stdout and stderr (`::add-mask::`, `::error::`, `::group::`,
  `::stop-commands::`), and keeps both the raw output and the log as the runner would show it (masked).

Unknown expression syntax raises, so a harness that cannot read a step says so instead of guessing.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*))"
)
COMMAND = re.compile(r"^::([a-z-]+)(?: ([^:]*))?::(.*)$")


def _unescape(data: str) -> str:
    return data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


class Expressions:
    """Enough of GitHub's expression language for action files: contexts, literals, ==, !=, &&, ||, !,
    parentheses, and the status functions."""

    def __init__(self, contexts: Mapping[str, Any], *, failed: bool) -> None:
        self.contexts = contexts
        self.failed = failed

    def template(self, text: str) -> str:
        """A string with `${{ }}` parts, as in `env:` values."""
        return EXPRESSION.sub(lambda m: _to_string(self.evaluate(m.group(1))), text)

    def condition(self, text: str) -> bool:
        """An `if:` value: an expression with or without `${{ }}`; without a status function it means
        `success() && (...)`."""
        text = text.strip()
        match = EXPRESSION.fullmatch(text)
        expr = match.group(1) if match else text
        value = self.evaluate(expr)
        if not re.search(r"\b(success|failure|always|cancelled)\(", expr):
            return not self.failed and _truthy(value)
        return _truthy(value)

    def evaluate(self, expr: str) -> Any:
        tokens = self._tokenize(expr)
        value, rest = self._or(tokens)
        if rest:
            raise ValueError(f"unexpected {rest[0]!r} in expression {expr!r}")
        return value

    @staticmethod
    def _tokenize(expr: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(expr.rstrip()):
            match = TOKEN.match(expr, pos)
            if not match or match.end() == pos:
                raise ValueError(f"cannot read expression {expr!r} at {expr[pos:]!r}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def _or(self, tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
        left, tokens = self._and(tokens)
        while tokens and tokens[0] == ("op", "||"):
            right, tokens = self._and(tokens[1:])
            left = left if _truthy(left) else right
        return left, tokens

    def _and(self, tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
        left, tokens = self._compare(tokens)
        while tokens and tokens[0] == ("op", "&&"):
            right, tokens = self._compare(tokens[1:])
            left = right if _truthy(left) else left
        return left, tokens

    def _compare(self, tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
        left, tokens = self._unary(tokens)
        while tokens and tokens[0] in (("op", "=="), ("op", "!=")):
            op = tokens[0][1]
            right, tokens = self._unary(tokens[1:])
            same = _loose(left) == _loose(right)
            left = same if op == "==" else not same
        return left, tokens

    def _unary(self, tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
        if not tokens:
            raise ValueError("expression ends early")
        kind, text = tokens[0]
        if (kind, text) == ("op", "!"):
            value, rest = self._unary(tokens[1:])
            return not _truthy(value), rest
        if (kind, text) == ("op", "("):
            value, rest = self._or(tokens[1:])
            if not rest or rest[0] != ("op", ")"):
                raise ValueError("missing )")
            return value, rest[1:]
        if kind == "str":
            return text[1:-1].replace("''", "'"), tokens[1:]
        if kind == "num":
            return float(text), tokens[1:]
        if kind == "name":
            if tokens[1:2] == [("op", "(")]:
                if tokens[2:3] != [("op", ")")]:
                    raise ValueError(f"function {text}() with arguments is not supported")
                return self._status_function(text), tokens[3:]
            return self._lookup(text), tokens[1:]
        raise ValueError(f"unexpected {text!r}")

    def _status_function(self, name: str) -> bool:
        results = {"success": not self.failed, "failure": self.failed, "always": True, "cancelled": False}
        if name not in results:
            raise ValueError(f"function {name}() is not supported by the harness")
        return results[name]

    def _lookup(self, dotted: str) -> Any:
        if dotted in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[dotted]
        head, *path = dotted.split(".")
        if head not in self.contexts:
            raise ValueError(f"unknown context {head!r} in {dotted!r}")
        value: Any = self.contexts[head]
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, 0.0, "")


def _loose(value: Any) -> Any:
    """GitHub compares strings case-insensitively and coerces booleans and numbers."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_file_commands(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV content: `name=value` lines and `name<<DELIM` heredocs."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"{name}: heredoc delimiter {delimiter!r} never closes")
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"invalid file command line: {line!r}")
    return values


@dataclass
class Annotation:
    level: str
    properties: dict[str, str]
    message: str


@dataclass
class WorkflowCommands:
    masks: list[str] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # the lines the runner shows (commands consumed)


def read_commands(text: str, into: WorkflowCommands | None = None) -> WorkflowCommands:
    """Workflow commands in a step's output, read as the runner reads them (honouring stop-commands)."""
    found = into or WorkflowCommands()
    stop_token: str | None = None
    for line in text.splitlines():
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            else:
                found.log.append(line)
            continue
        match = COMMAND.match(line)
        if not match:
            found.log.append(line)
            continue
        command, props, data = match.group(1), match.group(2) or "", _unescape(match.group(3))
        if command == "add-mask":
            found.masks.append(data)
        elif command == "stop-commands":
            stop_token = data
        elif command in ("error", "warning", "notice"):
            properties = dict(p.split("=", 1) for p in props.split(",") if "=" in p)
            found.annotations.append(Annotation(command, {k: _unescape(v) for k, v in properties.items()}, data))
            found.log.append(f"{command.title()}: {data}")
        elif command in ("group", "endgroup"):
            found.log.append(f"[{command}] {data}".rstrip())
        else:
            found.log.append(line)
    return found


@dataclass
class StepRun:
    name: str
    id: str | None
    ran: bool
    uses: str | None = None
    would_run: bool = False  # for `uses:` steps: what `if:` said
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    env: dict[str, str] = field(default_factory=dict)  # what the step's `env:` evaluated to
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    exported_env: dict[str, str] = field(default_factory=dict)  # GITHUB_ENV
    added_path: list[str] = field(default_factory=list)  # GITHUB_PATH


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str
    masks: list[str]
    annotations: list[Annotation]
    log: str  # what the runner would show: workflow commands consumed, masks applied

    @property
    def succeeded(self) -> bool:
        return all(step.exit_code in (None, 0) for step in self.steps)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.name == name or s.id == name)

    @property
    def raw_output(self) -> str:
        return "\n".join(s.stdout + s.stderr for s in self.steps)


class ActionHarness:
    def __init__(self, action_dir: Path, *, workspace: Path, runner_temp: Path, env: Mapping[str, str]) -> None:
        self.action_dir = action_dir
        self.action = yaml.safe_load((action_dir / "action.yml").read_text())
        if self.action["runs"]["using"] != "composite":
            raise ValueError("only composite actions are supported")
        self.workspace = workspace
        self.runner_temp = runner_temp
        self.env = dict(env)

    def run(self, inputs: Mapping[str, str], *, timeout: float = 180) -> ActionRun:
        declared = self.action.get("inputs") or {}
        unknown = set(inputs) - set(declared)
        if unknown:
            raise ValueError(f"inputs not declared in action.yml: {sorted(unknown)}")
        github = self._github_context()
        contexts: dict[str, Any] = {"github": github, "runner": self._runner_context(), "env": {}, "steps": {}}
        resolved: dict[str, str] = {}
        for name, spec in declared.items():
            default = str((spec or {}).get("default", ""))
            resolved[name] = inputs[name] if name in inputs else Expressions(contexts, failed=False).template(default)
        contexts["inputs"] = resolved

        job_env = {**self.env, **self._runner_variables(github)}
        path_prefix: list[str] = []
        steps: list[StepRun] = []
        found = WorkflowCommands()
        summary_parts: list[str] = []
        failed = False
        for index, spec in enumerate(self.action["runs"]["steps"]):
            expressions = Expressions(contexts, failed=failed)
            name = spec.get("name") or spec.get("uses") or f"step {index}"
            should_run = expressions.condition(str(spec["if"])) if "if" in spec else not failed
            if "uses" in spec:
                steps.append(StepRun(name, spec.get("id"), ran=False, uses=spec["uses"], would_run=should_run))
                self._record(contexts, spec.get("id"), "skipped", {})
                continue
            if not should_run:
                steps.append(StepRun(name, spec.get("id"), ran=False))
                self._record(contexts, spec.get("id"), "skipped", {})
                continue
            if spec.get("shell") != "bash":
                raise ValueError(f"step {name!r}: the harness runs `shell: bash` steps only")
            step_env = {k: expressions.template(str(v)) for k, v in (spec.get("env") or {}).items()}
            workdir = self.workspace / expressions.template(str(spec.get("working-directory", ".")))
            result = self._run_step(index, spec["run"], job_env, step_env, path_prefix, workdir, timeout)
            result.name, result.id = name, spec.get("id")
            steps.append(result)
            read_commands(result.stdout + result.stderr, into=found)
            summary_parts.append(result.summary)
            job_env.update(result.exported_env)
            path_prefix[:0] = reversed(result.added_path)
            self._record(contexts, spec.get("id"), "success" if result.exit_code == 0 else "failure", result.outputs)
            failed = failed or result.exit_code != 0
        outputs_expr = Expressions(contexts, failed=failed)
        declared_outputs = self.action.get("outputs") or {}
        outputs = {name: outputs_expr.template(str(spec.get("value", ""))) for name, spec in declared_outputs.items()}
        log = "\n".join(found.log)
        for secret in sorted(found.masks, key=len, reverse=True):
            log = log.replace(secret, "***")
        return ActionRun(steps, outputs, "".join(summary_parts), found.masks, found.annotations, log)

    def _github_context(self) -> dict[str, Any]:
        return {
            "action_path": str(self.action_dir),
            "token": self.env.get("GITHUB_TOKEN", "ghs_harnessToken0123456789"),
            "sha": self.env.get("GITHUB_SHA", ""),
            "ref_name": self.env.get("GITHUB_REF_NAME", ""),
            "repository": self.env.get("GITHUB_REPOSITORY", ""),
            "actor": self.env.get("GITHUB_ACTOR", ""),
            "workspace": str(self.workspace),
        }

    def _runner_context(self) -> dict[str, str]:
        return {"temp": str(self.runner_temp), "os": "Linux", "arch": "X64"}

    def _runner_variables(self, github: Mapping[str, Any]) -> dict[str, str]:
        return {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(self.action_dir),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_SERVER_URL": "https://github.com",
            "RUNNER_TEMP": str(self.runner_temp),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
        }

    @staticmethod
    def _record(contexts: dict[str, Any], step_id: str | None, outcome: str, outputs: dict[str, str]) -> None:
        if step_id:
            contexts["steps"][step_id] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}

    def _run_step(
        self,
        index: int,
        script: str,
        job_env: Mapping[str, str],
        step_env: Mapping[str, str],
        path_prefix: list[str],
        workdir: Path,
        timeout: float,
    ) -> StepRun:
        files = self.runner_temp / "_runner_file_commands"
        files.mkdir(parents=True, exist_ok=True)
        suffix = f"{index}_{uuid.uuid4().hex[:8]}"
        names = {kind: files / f"{kind}_{suffix}" for kind in ("output", "env", "path", "summary")}
        for path in names.values():
            path.write_text("")
        script_file = self.runner_temp / f"step_{index}.sh"
        script_file.write_text(script)
        env = {**job_env, **step_env}
        env["PATH"] = os.pathsep.join([*path_prefix, job_env.get("PATH", os.defpath)])
        env.update(
            GITHUB_OUTPUT=str(names["output"]),
            GITHUB_ENV=str(names["env"]),
            GITHUB_PATH=str(names["path"]),
            GITHUB_STEP_SUMMARY=str(names["summary"]),
        )
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return StepRun(
            "",
            None,
            ran=True,
            exit_code=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            env=dict(step_env),
            outputs=parse_file_commands(names["output"].read_text()),
            summary=names["summary"].read_text(),
            exported_env=parse_file_commands(names["env"].read_text()),
            added_path=[p for p in names["path"].read_text().splitlines() if p],
        )
