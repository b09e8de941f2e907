"""The Python-specific tables of buildpacks/python.yaml that the common unit format does not cover.

Frameworks' app objects, production servers, the server added when none is a dependency, which package
provides which program, where app objects live, Django's build steps and native packages: data in the YAML
file, read here once, used by the decisions in python.py and its helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from unkey_deploy.errors import ConfigError
from unkey_deploy.plan._buildpacks import buildpacks_dir, load_buildpacks


@dataclass(frozen=True)
class AppFramework:
    """A framework whose app object a production server serves (Flask: `app = Flask(`, over WSGI)."""

    id: str
    interface: str | None = None  # wsgi or asgi
    app: tuple[str, ...] = ()  # constructors: `name = Constructor(`
    factories: tuple[str, ...] = ()  # functions returning the app: `def create_app(`
    asgi_dependencies: tuple[str, ...] = ()  # with one of these, Django is served over ASGI


@dataclass(frozen=True)
class ServerSpec:
    """A production server: `package` provides `program`; `command` serves `{app}` on $PORT."""

    program: str
    package: str
    interfaces: tuple[str, ...]
    command: str
    factory: str | None = None  # how `{module}:{object}` names an app factory for this server


@dataclass(frozen=True)
class NativeNeeds:
    """Debian packages a dependency needs: to compile it, to load it; none with one of `unless_extras`."""

    build: tuple[str, ...] = ()
    runtime: tuple[str, ...] = ()
    unless_extras: tuple[str, ...] = ()


@dataclass(frozen=True)
class DjangoRules:
    collectstatic: str
    compress: str
    placeholders: dict[str, str] = field(default_factory=dict)  # env name pattern -> throwaway build value


@dataclass(frozen=True)
class PythonRules:
    frameworks: tuple[AppFramework, ...]
    servers: tuple[ServerSpec, ...]
    add_server: dict[str, str]  # interface -> requirement installed when no server of it is a dependency
    extras_provide: dict[str, tuple[str, ...]]  # `fastapi[standard]` -> packages it pulls in
    program_packages: dict[str, str]  # program -> the package that installs it
    builtin_programs: frozenset[str]
    app_files: tuple[str, ...]
    package_app_files: tuple[str, ...]
    not_app_dirs: tuple[str, ...]
    not_app_files: tuple[str, ...]
    django: DjangoRules
    native_packages: dict[str, NativeNeeds]
    default_why: str | None  # why the default Python is the default

    def framework(self, framework_id: str) -> AppFramework | None:
        return next((f for f in self.frameworks if f.id == framework_id), None)


@cache
def python_rules() -> PythonRules:
    try:
        return _parse(load_buildpacks()["python"].data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"buildpack {buildpacks_dir() / 'python.yaml'} is malformed ({exc}); reinstall "
                          "unkey-deploy") from None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _parse(data: dict[str, Any]) -> PythonRules:
    django = data.get("django") or {}
    return PythonRules(
        frameworks=tuple(
            AppFramework(id=str(f["id"]), interface=f.get("interface"), app=_strings(f.get("app")),
                         factories=_strings(f.get("factories")),
                         asgi_dependencies=_strings(f.get("asgi_dependencies")))
            for f in data.get("frameworks") or ()
        ),
        servers=tuple(
            ServerSpec(program=str(s["program"]), package=str(s["package"]), interfaces=_strings(s.get("interfaces")),
                       command=str(s["command"]), factory=s.get("factory"))
            for s in data.get("servers") or ()
        ),
        add_server={str(k): str(v) for k, v in (data.get("add_server") or {}).items()},
        extras_provide={str(k): _strings(v) for k, v in (data.get("extras_provide") or {}).items()},
        program_packages={str(k): str(v) for k, v in (data.get("program_packages") or {}).items()},
        builtin_programs=frozenset(_strings(data.get("builtin_programs"))),
        app_files=_strings(data.get("app_files")),
        package_app_files=_strings(data.get("package_app_files")),
        not_app_dirs=_strings(data.get("not_app_dirs")),
        not_app_files=_strings(data.get("not_app_files")),
        django=DjangoRules(
            collectstatic=str(django.get("collectstatic", "")), compress=str(django.get("compress", "")),
            placeholders={str(k): str(v) for k, v in (django.get("placeholders") or {}).items()},
        ),
        native_packages={
            str(name): NativeNeeds(build=_strings(n.get("build")), runtime=_strings(n.get("runtime")),
                                   unless_extras=_strings(n.get("unless_extras")))
            for name, n in (data.get("native_packages") or {}).items()
        },
        default_why=(data.get("versions") or {}).get("python", {}).get("default_why"),
    )
