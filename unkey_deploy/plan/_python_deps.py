"""Python dependencies: what the app declares, and what its lockfile installs with them.

`declared` reads the manifests (requirements.txt, pyproject.toml, Pipfile); `installed` follows the
lockfile (uv.lock, poetry.lock, Pipfile.lock) from the main dependencies through everything they pull
in, dev-only groups left out, so the plan knows which programs the runtime image will have.
"""

from __future__ import annotations

import codecs
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from unkey_deploy.plan._source import Source

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_INCLUDE = re.compile(r"^(?:-r|--requirement)[\s=]+(\S+)")
# Byte-order marks pip honours in requirement files (`pip freeze > requirements.txt` in PowerShell writes
# UTF-16 with a BOM); UTF-32 first, its little-endian BOM starts like UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def normalize(name: str) -> str:
    """PEP 503 name: `Flask_SQLAlchemy` and `flask.sqlalchemy` are both `flask-sqlalchemy`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(src: Source, name: str) -> str | None:
    """A requirements file decoded as pip decodes it: by its byte-order mark, else as UTF-8."""
    try:
        data = src.path(name).read_bytes()
    except OSError:
        return None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def declared(src: Source) -> dict[str, set[str]]:
    """Normalized names of the main dependencies, each with the extras it asks for."""
    specs: list[tuple[str, Iterable[str]]] = []
    pending, seen = ["requirements.txt"], set()
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        for line in (read_requirements(src, name) or "").splitlines():
            line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
            include = _INCLUDE.match(line)
            if include:  # -r other.txt, relative to the including file
                pending.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), include.group(1))))
            elif line and not line.startswith("-"):
                specs.append(_parse(line))
    pyproject = src.toml("pyproject.toml")
    specs += [_parse(str(d)) for d in pyproject.get("project", {}).get("dependencies", []) or []]
    poetry = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {}) or {}
    specs += [(name, _extras(value)) for name, value in poetry.items() if name != "python"]
    specs += [(name, _extras(value)) for name, value in (src.toml("Pipfile").get("packages", {}) or {}).items()]
    found: dict[str, set[str]] = {}
    for name, extras in specs:
        if name:
            found.setdefault(normalize(name), set()).update(normalize(e) for e in extras)
    return found


def installed(src: Source, deps: dict[str, set[str]], extras_provide: Mapping[str, Sequence[str]]) -> set[str]:
    """Every package the runtime image gets: the declared ones and, from a lockfile, what they pull in."""
    found = set(deps)
    for name, extras in deps.items():
        for extra in extras:
            found.update(normalize(n) for n in extras_provide.get(f"{name}[{extra}]", []))
    pipfile = src.json("Pipfile.lock").get("default")
    if isinstance(pipfile, dict):
        found.update(normalize(str(name)) for name in pipfile)
    graph = _uv_graph(src) or _poetry_graph(src)
    if graph:
        project = src.toml("pyproject.toml").get("project", {}).get("name")
        pending: list[_Edge] = [(name, frozenset(extras)) for name, extras in deps.items()]
        if project:
            pending.append((normalize(str(project)), frozenset()))
        seen: set[_Edge] = set()
        while pending:
            item = pending.pop()
            if item in seen:
                continue
            seen.add(item)
            name, wanted = item
            found.add(name)
            requires, optional = graph.get(name, ([], {}))
            for dep in [*requires, *(d for extra in wanted for d in optional.get(extra, []))]:
                pending.append(dep)
    return found


def _parse(spec: str) -> tuple[str, list[str]]:
    match = _REQUIREMENT.match(spec)
    if not match:
        return "", []
    return match.group(1), [e.strip() for e in (match.group(2) or "").split(",") if e.strip()]


def _extras(value: Any) -> list[str]:
    return [str(e) for e in value.get("extras", [])] if isinstance(value, dict) else []


_Edge = tuple[str, frozenset[str]]  # a package and the extras asked of it
_Graph = dict[str, tuple[list[_Edge], dict[str, list[_Edge]]]]  # package -> (requirements, extra -> requirements)


def _uv_graph(src: Source) -> _Graph:
    graph: _Graph = {}
    for package in src.toml("uv.lock").get("package", []) or []:
        def edges(items: Any) -> list[_Edge]:
            return [(normalize(str(d.get("name", ""))), frozenset(normalize(e) for e in d.get("extra", [])))
                    for d in items or [] if isinstance(d, dict)]
        optional = {normalize(k): edges(v) for k, v in (package.get("optional-dependencies") or {}).items()}
        graph[normalize(str(package.get("name", "")))] = (edges(package.get("dependencies")), optional)
    return graph


def _poetry_graph(src: Source) -> _Graph:
    graph: _Graph = {}
    for package in src.toml("poetry.lock").get("package", []) or []:
        requires: list[_Edge] = []
        for name, value in (package.get("dependencies") or {}).items():
            if isinstance(value, dict) and value.get("optional"):
                continue
            requires.append((normalize(name), frozenset(normalize(e) for e in _extras(value))))
        optional: dict[str, list[_Edge]] = {
            normalize(extra): [(normalize(_parse(str(spec))[0]), frozenset()) for spec in specs]
            for extra, specs in (package.get("extras") or {}).items()
        }
        graph[normalize(str(package.get("name", "")))] = (requires, optional)
    return graph
