"""Python start commands: which server serves which app object, and whether its program is installed.

The tables (frameworks, servers, app files, program packages) are in buildpacks/python.yaml;
this module only decides.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from unkey_deploy.plan._python_deps import normalize
from unkey_deploy.plan._python_rules import PythonRules
from unkey_deploy.plan._source import Source

_SEGMENTS = re.compile(r"&&|\|\||;|\|")
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")


@dataclass(frozen=True)
class AppObject:
    module: str  # dotted, e.g. "app.main"
    name: str  # the variable, or the factory function
    factory: bool = False
    file: str = ""

    @property
    def ref(self) -> str:
        return f"{self.module}:{self.name}"


@dataclass(frozen=True)
class Server:
    program: str
    package: str
    command: str
    added: str | None = None  # the requirement the plan installs because the app has no server


def module_of(path: str, src: Source | None = None) -> str:
    """`app/main.py` → `app.main`; under src/ a package is imported by its own name (it is installed)."""
    if src is not None and path.startswith("src/") and src.exists(f"src/{path.split('/')[1]}/__init__.py"):
        path = path.removeprefix("src/")
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def app_object(src: Source, rules: PythonRules, constructors: Sequence[str],
               factories: Sequence[str]) -> AppObject | None:
    """The first `name = Constructor(` (or `= factory(`) in the usual app files, then the other top-level
    modules; failing that, a `def factory(` to call."""
    files = _candidate_files(src, rules)
    calls = "|".join(re.escape(c) for c in [*constructors, *factories])
    if calls:
        assigned = re.compile(rf"^(\w+)\s*(?::\s*[\w.\[\]]+\s*)?=\s*(?:{calls})\(", re.MULTILINE)
        for name in files:
            match = assigned.search(src.text(name) or "")
            if match:
                return AppObject(module_of(name, src), match.group(1), file=name)
    if factories:
        defined = re.compile(rf"^(?:async\s+)?def\s+({'|'.join(re.escape(f) for f in factories)})\(", re.MULTILINE)
        for name in files:
            match = defined.search(src.text(name) or "")
            if match:
                return AppObject(module_of(name, src), match.group(1), factory=True, file=name)
    return None


def _candidate_files(src: Source, rules: PythonRules) -> list[str]:
    """The usual app files, the other top-level modules, then the usual files of each top-level package
    (and of src/ packages), then of the other top-level folders (namespace packages)."""
    known = [name for name in rules.app_files if src.exists(name)]
    skip = set(rules.not_app_files)
    others = [name for name in src.list_dir() if name.endswith(".py") and name not in skip and src.exists(name)]
    packages = [d for d in src.subdirs() if src.exists(f"{d}/__init__.py")]
    packages += [f"src/{d}" for d in src.subdirs("src") if src.exists(f"src/{d}/__init__.py")]
    not_dirs = {*rules.not_app_dirs, "src"}
    packages += [d for d in src.subdirs() if d.isidentifier() and d not in not_dirs and d not in packages]
    inside = [f"{package}/{name}" for package in packages for name in rules.package_app_files
              if src.exists(f"{package}/{name}")]
    return list(dict.fromkeys([*known, *others, *inside]))


def choose_server(rules: PythonRules, interface: str, installed: set[str],
                  prefer: tuple[str, ...] = ()) -> Server:
    """The first installed server that speaks `interface` (those in `prefer` first); else the one the
    plan adds (`add_server`)."""
    servers = [s for s in rules.servers if interface in s.interfaces]
    servers.sort(key=lambda s: prefer.index(s.program) if s.program in prefer else len(prefer))
    for server in servers:
        if normalize(server.package) in installed:
            return Server(server.program, server.package, server.command)
    requirement = rules.add_server[interface]
    package = normalize(re.split(r"[<>=!~\[]", requirement, maxsplit=1)[0])
    server = next(s for s in servers if normalize(s.package) == package)
    return Server(server.program, server.package, server.command, added=requirement)


def server_command(rules: PythonRules, server: Server, app: AppObject, interface: str) -> str:
    spec = next(s for s in rules.servers if s.program == server.program)
    ref = app.ref
    if app.factory and spec.factory:
        ref = spec.factory.format(module=app.module, object=app.name)
    return server.command.format(app=ref, interface=interface)


def missing_programs(command: str, src: Source, installed: set[str], scripts: set[str],
                     rules: PythonRules) -> list[str]:
    """Commands of `command` that no installed package provides (and `python` files or modules missing)."""
    builtins = rules.builtin_programs
    programs = {k: normalize(v) for k, v in rules.program_packages.items()}
    missing: list[str] = []
    for segment in _SEGMENTS.split(command):
        try:
            tokens = shlex.split(segment)
        except ValueError:
            continue
        while tokens and (_ASSIGNMENT.match(tokens[0]) or tokens[0] in ("exec", "env", "nohup")):
            tokens = tokens[1:]
        if not tokens:
            continue
        program = tokens[0]
        if program in ("python", "python3") or re.fullmatch(r"python3(\.\d+)?", program):
            problem = _python_target(tokens[1:], src, installed)
            if problem:
                missing.append(problem)
            continue
        if program in builtins or program in scripts or "/" in program:
            continue  # a file of the app: the common start-program check looks for it in the image
        if programs.get(program, normalize(program)) not in installed:
            missing.append(program)
    return missing


def _python_target(args: list[str], src: Source, installed: set[str]) -> str | None:
    if len(args) >= 2 and args[0] == "-m":
        top = args[1].split(".")[0]
        local = src.exists(f"{top}.py") or src.exists(f"{top}/__init__.py") or src.exists(f"{top}/__main__.py")
        local = local or src.exists(f"src/{top}/__init__.py") or src.exists(f"src/{top}/__main__.py")
        if local or top in sys.stdlib_module_names or normalize(top) in installed:
            return None
        return f"python -m {args[1]}"
    if args and args[0].endswith(".py") and not src.exists(args[0]):
        return f"python {args[0]}"
    return None


def module_entry(src: Source, installed: bool) -> str | None:
    """A package with a __main__.py at the top level, or under src/ when the app is installed."""
    for directory in src.subdirs():
        if src.exists(f"{directory}/__main__.py") and src.exists(f"{directory}/__init__.py"):
            return directory
    for directory in src.subdirs("src") if installed else []:
        if src.exists(f"src/{directory}/__main__.py"):
            return directory
    return None
