"""Checks over a finished plan, the same for every ecosystem; the knowledge they use is data.

- The start program: the program CMD runs must exist in the runtime stage, as a file copied into it, a
  program of the runtime image (`programs:` of the unit's image key) or one the recipe installs
  (`Recipe.programs`). When it cannot be found the plan says so in its reasons and warnings, before any build.
- Hard-coded ports: `ports:` rules of the unit find a port the source listens on whatever $PORT says; the
  plan then uses that port (ENV PORT and EXPOSE) instead of deploying an app that never answers.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from unkey_deploy.plan._buildpacks import PortRule
from unkey_deploy.plan._model import CONTEXT, Plan, Recipe
from unkey_deploy.plan._source import IGNORED_DIRS

# Built into every POSIX shell: never looked up on PATH.
SHELL_BUILTINS = frozenset({"exec", "cd", "set", "export", "trap", "true", "false", "test", "[", "echo", "printf",
                            "wait", ":", ".", "source", "ulimit", "umask", "kill", "unset", "command", "eval"})
# A script with control flow is beyond this check: it says nothing rather than guess.
SHELL_KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case",
                            "esac", "{", "}", "(", ")", "!", "function"})
SHELLS = ("sh", "bash", "dash", "ash")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
REDIRECT = re.compile(r"\d*[<>]&\d*-?|&>>?")

MAX_SCAN_FILES = 2000  # bounded walk for the port rules
MAX_SCAN_DEPTH = 6
MAX_FILE_BYTES = 512 * 1024
PORT_ENV = re.compile(r"\$\{?PORT\b")


# -- the start program -------------------------------------------------------------------------------------

def start_programs(cmd: list[str]) -> list[str] | None:
    """The programs CMD runs, in order; None when a shell script is too involved to tell."""
    if len(cmd) >= 3 and PurePosixPath(cmd[0]).name in SHELLS and cmd[1] == "-c":
        script = REDIRECT.sub(" ", cmd[2])  # `2>&1`, `&>log`: redirections, not a background `&`
        try:
            lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:
            return None
        programs = [cmd[0]]
        segment: list[str] = []
        for token in [*tokens, ";"]:
            if token and set(token) <= set(";&|"):
                program = _program(segment)
                if program is False:
                    return None
                if isinstance(program, str):
                    programs.append(program)
                segment = []
            else:
                segment.append(token)
        return programs
    program = _program(list(cmd))
    return [program] if isinstance(program, str) else None


def _program(words: list[str]) -> str | None | bool:
    """The program of one simple command: None for none (a builtin), False for shell syntax to give up on."""
    while words and (words[0] in ("exec", "env", "command") or ASSIGNMENT.match(words[0])
                     or (words[0].startswith("-") and words[0] != "-")):
        words = words[1:]
    if not words:
        return None
    if words[0] in SHELL_KEYWORDS or "$" in words[0] or "`" in words[0]:
        return False
    return None if words[0] in SHELL_BUILTINS else words[0]


def check_start(plan: Plan, image_programs: tuple[str, ...] | None) -> None:
    """Warn when a program CMD runs is not in the runtime stage."""
    recipe = plan.recipe
    if recipe is None or not plan.generated:
        return
    programs = start_programs(recipe.cmd)
    for program in programs or ():
        if _present(program, plan, recipe, image_programs) is False:
            where = recipe.runtime_image
            why = (f"{program} is not a file copied into the runtime image" if "/" in program else
                   f"{where} does not have {program} and the build does not install it")
            plan.reasons.append(f"start program {program}: not found in the runtime stage ({why})")
            plan.warnings.append(
                f"the start command runs {program}, which will not exist when the container starts: {why}. "
                "Make it a production dependency, or give a start command whose program the image has "
                "(a Procfile web: line, or a Dockerfile)"
            )


def _present(program: str, plan: Plan, recipe: Recipe, image_programs: tuple[str, ...] | None) -> bool | None:
    """True: found; False: certainly missing; None: cannot tell."""
    if "/" in program:
        return _file_present(program, plan, recipe)
    if image_programs is not None and program in image_programs:
        return True
    if recipe.programs is not None and program in recipe.programs:
        return True
    if image_programs is None:
        return None
    extra_path = [d for d in recipe.runtime_env.get("PATH", "").split(":") if d and not d.startswith("$")]
    if recipe.programs is None and extra_path:
        return None  # the recipe adds directories to PATH without saying what is in them
    return False


def _file_present(program: str, plan: Plan, recipe: Recipe) -> bool | None:
    workdir = recipe.runtime_workdir or recipe.workdir
    path = PurePosixPath(program if program.startswith("/") else os.path.normpath(f"{workdir}/{program}"))
    single = recipe.build_image is None
    targets = [(CONTEXT, recipe.copy_to or recipe.workdir)] if single else list(recipe.artifacts)
    for source, target in reversed(targets):
        if path != PurePosixPath(target) and PurePosixPath(target) not in path.parents:
            continue
        rel = path.relative_to(target).as_posix()
        if source == CONTEXT:
            if (plan.context_dir / recipe.copy_from / rel).exists():
                return True
            if recipe.build_image is None and (recipe.build or recipe.install):
                return None  # a single-stage build may create it
            return False
        return None  # copied from the build stage: the build may well have made it
    return None  # somewhere in the image itself


# -- hard-coded ports --------------------------------------------------------------------------------------

def check_ports(plan: Plan, app: Path, rules: tuple[PortRule, ...], default_port: int) -> None:
    """Use a port the source hard-codes when the app does not read $PORT."""
    recipe = plan.recipe
    if recipe is None or not plan.generated or not rules or plan.port != default_port:
        return
    if any(PORT_ENV.search(part) for part in recipe.cmd):
        return  # the start command passes $PORT on: the server honours it
    files = list(_walk(app))
    for rule in rules:
        hits: list[tuple[str, int]] = []
        honoured = False
        for rel in files:
            if not any(_glob(rel, pattern) for pattern in rule.files):
                continue
            text = _read(app / rel)
            if text is None:
                continue
            if rule.reads_port and re.search(rule.reads_port, text):
                honoured = True
                break
            hits += [(rel, port) for m in re.finditer(rule.pattern, text) if (port := _matched_port(m, rule))]
        if honoured or not hits:
            continue
        rel, port = hits[0]
        others = sorted({p for _, p in hits if p != port})
        also = f" (also {', '.join(map(str, others))} elsewhere)" if others else ""
        plan.port = port
        where = f"the default of the server call in {rel} (it names no port)" if rule.port else f"hard-coded in {rel}"
        plan.reasons.append(f"port {port}: {where}{also} and $PORT is not read, so PORT={port}")
        return


def _matched_port(match: re.Match[str], rule: PortRule) -> int | None:
    """The port a match names (its first group), or the rule's `port` for a call that names none."""
    text = match.group(1) if match.re.groups else None
    if text is None:
        return rule.port
    return int(text) if text.isdigit() and 1 <= int(text) <= 65535 else None


def _glob(rel: str, pattern: str) -> bool:
    """`*` and `?` stay within a directory, `**/` is any number of directories (none included)."""
    regex = _GLOBS.get(pattern)
    if regex is None:
        parts = re.split(r"(\*\*/|\*|\?)", pattern)
        body = "".join({"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part)) for part in parts)
        regex = _GLOBS[pattern] = re.compile(body + r"\Z")
    return regex.match(rel) is not None


_GLOBS: dict[str, re.Pattern[str]] = {}


def _walk(app: Path) -> Iterator[str]:
    """Relative paths of the app's files, breadth first, skipping dependency and build directories; bounded."""
    count = 0
    queue: list[tuple[Path, int]] = [(app, 0)]
    while queue:
        directory, depth = queue.pop(0)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.is_symlink():
                continue
            if entry.is_dir():
                if entry.name not in IGNORED_DIRS and depth < MAX_SCAN_DEPTH:
                    queue.append((Path(entry.path), depth + 1))
            elif entry.is_file():
                count += 1
                if count > MAX_SCAN_FILES:
                    return
                yield Path(entry.path).relative_to(app).as_posix()


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
