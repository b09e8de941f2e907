"""Django: the settings module, the project package that serves it, and the build steps it needs.

The settings module is the one the server loads (the `DJANGO_SETTINGS_MODULE` default of wsgi.py, else
asgi.py), else manage.py's; build commands run with it. Its file and every module it star-imports
(`from .base import *`) are read to find STATIC_ROOT, COMPRESS_OFFLINE and the environment variables the
settings need at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from unkey_deploy.plan._python_rules import DjangoRules
from unkey_deploy.plan._source import Source

_SETTINGS_DEFAULT = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
_STAR_IMPORT = re.compile(r"^\s*from\s+(\.*[\w.]*)\s+import\s+\*", re.MULTILINE)
_STATIC_ROOT = re.compile(r"^STATIC_ROOT\s*=\s*(?!None\b)\S", re.MULTILINE)
_STATIC_ROOT_IF = re.compile(r"^\s+STATIC_ROOT\s*=\s*(?!None\b)\S", re.MULTILINE)
_COMPRESS_OFFLINE = re.compile(r"^\s*COMPRESS_OFFLINE\s*=\s*(?!False\b)\S", re.MULTILINE)
# Reads that fail when the variable is missing: os.environ["X"], env("X") / env.str("X") (django-environ),
# config("X") (python-decouple), with no default argument.
_REQUIRED_ENV = (
    re.compile(r"""\b(?:os\.environ|environ|env)\[\s*["'](\w+)["']\s*\]"""),
    re.compile(r"""\b(?:env|config)(?:\.(?:str|bool|int|list|url|db_url|json))?\(\s*["'](\w+)["']\s*\)"""),
    re.compile(r"""\bSECRET_KEY\s*=\s*os\.(?:environ\.get|getenv)\(\s*["'](\w+)["']\s*\)"""),
)
_SETTING = re.compile(r"^[A-Z][A-Z0-9_]*\s*=", re.MULTILINE)
_ENV_DB = re.compile(r"\benv\.db(?:_url)?\(\s*\)")
_MAX_FILES = 20


@dataclass
class DjangoApp:
    settings: str | None  # dotted module
    manage_settings: str | None  # manage.py's default, what `python manage.py` loads unless told
    project: str | None  # the package holding wsgi.py / asgi.py
    files: list[str] = field(default_factory=list)  # settings files read, in order
    text: str = ""  # their text, joined

    def has_asgi(self, src: Source) -> bool:
        return bool(self.project) and src.exists(f"{self.project}/asgi.py")

    @property
    def staticfiles_app(self) -> bool:
        """django.contrib.staticfiles is installed: what provides collectstatic."""
        return "django.contrib.staticfiles" in self.text

    @property
    def static_root(self) -> bool:
        return bool(_STATIC_ROOT.search(self.text))

    @property
    def static_root_conditional(self) -> bool:
        return not self.static_root and bool(_STATIC_ROOT_IF.search(self.text))

    @property
    def compress_offline(self) -> bool:
        return bool(_COMPRESS_OFFLINE.search(self.text))

    def required_env(self) -> list[str]:
        """Names the settings read with no default, so importing them fails when they are unset."""
        names: list[str] = []
        for pattern in _REQUIRED_ENV:
            names += pattern.findall(self.text)
        if _ENV_DB.search(self.text):
            names.append("DATABASE_URL")
        return list(dict.fromkeys(names))


def find(src: Source) -> DjangoApp:
    """The server's settings module, else manage.py's, else `<project>.settings`: the first that sets
    anything (an empty settings package left for the environment to choose is skipped)."""
    manage = _default(src, "manage.py")
    candidates = [m for m in dict.fromkeys((_server_settings(src), manage, _conventional_settings(src))) if m]
    settings, files, text = None, [], ""
    for candidate in candidates:
        files = _settings_files(src, candidate)
        text = "\n".join(src.text(f) or "" for f in files)
        settings = candidate
        if _SETTING.search(text):
            break
    return DjangoApp(settings, manage, _project(src, settings), files, text)


def build_commands(app: DjangoApp, installed: set[str], rules: DjangoRules) -> tuple[list[str], list[str]]:
    """(commands, reasons): collectstatic when STATIC_ROOT is set, compress when COMPRESS_OFFLINE is."""
    where = app.settings or "settings"
    commands: list[tuple[str, str]] = []
    reasons: list[str] = []
    if app.static_root and not app.staticfiles_app:
        reasons.append(f"build: no collectstatic, django.contrib.staticfiles is not in INSTALLED_APPS of {where}")
    elif app.static_root:
        commands.append((rules.collectstatic, f"build: collectstatic, STATIC_ROOT is set in {where}"))
    elif app.static_root_conditional:
        return [], [f"build: no collectstatic, STATIC_ROOT is set only under a condition in {where} (run it from "
                    "the start command, or set STATIC_ROOT unconditionally)"]
    if app.compress_offline and "django-compressor" in installed:
        commands.append((rules.compress, f"build: compress, COMPRESS_OFFLINE is set in {where}"))
    if not commands:
        return [], reasons
    reasons += [why for _, why in commands]
    env: dict[str, str] = {}
    if app.settings and app.settings != app.manage_settings:
        env["DJANGO_SETTINGS_MODULE"] = app.settings
        reasons.append(f"build: manage.py runs with {app.settings}, the settings the server loads")
    names = app.required_env()
    if names:
        env.update({name: _placeholder(name, rules.placeholders) for name in names})
        reasons.append(f"build: {', '.join(names)} read by the settings without a default: a throwaway value on "
                       "the build steps only, unless a build variable sets it")
    pairs = [f'{name}="${{{name}:-{value}}}"' for name, value in env.items()]
    exports = [f"export {' '.join(pairs)}"] if pairs else []
    return [*exports, *(command for command, _ in commands)], reasons


def _placeholder(name: str, table: dict[str, str]) -> str:
    for pattern, value in table.items():
        if fnmatchcase(name, pattern):
            return str(value)
    return "unkey-build-placeholder"


def _default(src: Source, name: str) -> str | None:
    match = _SETTINGS_DEFAULT.search(src.text(name) or "")
    return match.group(1) if match else None


def _server_settings(src: Source) -> str | None:
    for directory in src.subdirs():
        found = _default(src, f"{directory}/wsgi.py") or _default(src, f"{directory}/asgi.py")
        if found:
            return found
    return None


def _conventional_settings(src: Source) -> str | None:
    for directory in src.subdirs():
        if src.exists(f"{directory}/settings.py") or src.exists(f"{directory}/settings/__init__.py"):
            return f"{directory}.settings"
    return None


def _module_file(src: Source, module: str) -> str | None:
    path = module.replace(".", "/")
    return src.first([f"{path}.py", f"{path}/__init__.py"])


def _settings_files(src: Source, module: str) -> list[str]:
    files: list[str] = []
    pending = [module]
    while pending and len(files) < _MAX_FILES:
        current = pending.pop(0)
        name = _module_file(src, current)
        if not name or name in files:
            continue
        files.append(name)
        package = current if name.endswith("__init__.py") else current.rpartition(".")[0]
        for target in _STAR_IMPORT.findall(src.text(name) or ""):
            pending.append(_absolute(target, package))
    return files


def _absolute(target: str, package: str) -> str:
    dots = len(target) - len(target.lstrip("."))
    if not dots:
        return target
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (dots - 1)] if dots > 1 else parts
    rest = target[dots:]
    return ".".join([*base, rest] if rest else base)


def _project(src: Source, settings: str | None) -> str | None:
    if settings:
        top = settings.split(".")[0]
        if src.exists(f"{top}/wsgi.py") or src.exists(f"{top}/asgi.py"):
            return top
    for name in src.subdirs():
        if src.exists(f"{name}/wsgi.py") or src.exists(f"{name}/asgi.py"):
            return name
    return None
