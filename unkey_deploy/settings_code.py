"""Settings as code: the `project:`, `app:` and `environments:` sections of unkey.yaml.

```yaml
project: acme
app: api
environments:
  production:
    port: 3000
    healthcheck: {method: GET, path: /healthz}   # or "GET /healthz"
    cpu: 0.5
    memory: 512
    regions: [us-east-1]
    domains: [api.acme.dev]
```

Each environment's entries become `environments.updateSettings` fields (`cpu` -> `vCpus`, ...). Unknown keys and
wrong shapes are refused with the file, the line and the reason; each value is checked, in the file's order,
by the `check` the caller passes (the API's settings schema, see `api.settings_check`), before anything is sent.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from unkey_deploy.errors import ConfigError

if TYPE_CHECKING:
    from unkey_deploy.config import ProjectConfig

# unkey.yaml key -> updateSettings field
FIELDS = {
    "port": "port", "cpu": "vCpus", "memory": "memoryMib", "storage": "storageMib", "command": "command",
    "healthcheck": "healthcheck", "shutdownSignal": "shutdownSignal", "protocol": "upstreamProtocol",
    "openapiSpecPath": "openapiSpecPath", "dockerfile": "dockerfile", "rootDirectory": "rootDirectory",
    "buildCommand": "buildCommand", "watchPaths": "watchPaths", "autoDeploy": "autoDeploy", "regions": "regions",
}
KEYS = (*FIELDS, "domains")


class Problem(Protocol):
    """What a value check reports: where in the value (`location`, empty path for the value itself), what is
    wrong, and how to fix it."""

    @property
    def path(self) -> Sequence[str | int]: ...

    @property
    def location(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def fix(self) -> str | None: ...


Check = Callable[[str, Any], Sequence[Problem]]  # (updateSettings field, value) -> what is wrong with it
HEALTHCHECK_KEYS = {
    "method": "method", "path": "path", "interval": "intervalSeconds", "timeout": "timeoutSeconds",
    "failureThreshold": "failureThreshold", "initialDelay": "initialDelaySeconds",
    **{name: name for name in ("intervalSeconds", "timeoutSeconds", "initialDelaySeconds")},
}


@dataclass
class EnvironmentCode:
    settings: dict[str, Any] = field(default_factory=dict)  # updateSettings fields
    domains: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # field -> line in the file


@dataclass
class SettingsCode:
    path: Path | None
    project: str | None = None
    app: str | None = None
    environments: dict[str, EnvironmentCode] = field(default_factory=dict)


def parse_settings(config: ProjectConfig, check: Check | None = None) -> SettingsCode:
    """The settings of an unkey.yaml already read (its composed node tree); ConfigError naming file and line.
    `check` finds what is wrong with a value (nothing is checked beyond the shapes without it)."""
    import yaml

    path, root = config.path, config.node
    if path is None:
        return SettingsCode(None)
    code = SettingsCode(path)
    if not isinstance(root, yaml.MappingNode):
        return code
    for key_node, value_node in root.value:
        key = key_node.value
        if key in ("project", "app"):
            setattr(code, key, _scalar_text(path, value_node, key))
        elif key == "environments":
            if not isinstance(value_node, yaml.MappingNode):
                _fail(path, value_node, "environments", "must be a mapping of environment slug to settings")
            for env_key, env_node in value_node.value:
                code.environments[str(env_key.value)] = _environment(path, env_node, f"environments.{env_key.value}",
                                                                     check)
    return code


def _environment(path: Path, node: Any, where: str, check: Check | None) -> EnvironmentCode:
    import yaml

    out = EnvironmentCode()
    if not isinstance(node, yaml.MappingNode):
        _fail(path, node, where, "must be a mapping of settings (port, healthcheck, cpu, memory, ...)")
    for key_node, value_node in node.value:
        key = str(key_node.value)
        here = f"{where}.{key}"
        if key not in KEYS:
            _fail(path, key_node, here, f"is not a known setting (known: {', '.join(KEYS)})")
        value = yaml.safe_load(yaml.serialize(value_node))
        if key == "domains":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                _fail(path, value_node, here, "must be a list of host names, e.g. [api.acme.dev]")
            out.domains = [v.lower() for v in value]
            continue
        name = FIELDS[key]
        value = _convert(path, value_node, here, key, value)
        problems = check(name, value) if check is not None else ()
        if problems:
            problem = problems[0]
            inner = problem.location if problem.path else ""
            fix = f" ({problem.fix})" if problem.fix else ""
            _fail(path, value_node, f"{here}{'.' + inner if inner else ''}", f"{problem.message}{fix}")
        out.settings[name] = value
        out.lines[name] = value_node.start_mark.line + 1
    return out


def _convert(path: Path, node: Any, where: str, key: str, value: Any) -> Any:
    """Friendly forms to the API's: `GET /healthz`, a command string, region names, `cpu: 1`."""
    if key == "healthcheck":
        if isinstance(value, str):
            method, _, rest = value.strip().partition(" ")
            return {"method": method.upper(), "path": rest.strip()} if rest else {"method": "GET", "path": method}
        if isinstance(value, dict):
            unknown = [k for k in value if k not in HEALTHCHECK_KEYS]
            if unknown:
                _fail(path, node, f"{where}.{unknown[0]}",
                      "is not a health check field (known: method, path, interval, timeout, failureThreshold, "
                      "initialDelay)")
            converted = {HEALTHCHECK_KEYS[k]: v for k, v in value.items()}
            converted.setdefault("method", "GET")
            return converted
    if key == "command" and isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            _fail(path, node, where, f"cannot be split into words ({exc})")
    if key == "regions" and isinstance(value, list):
        return [{"name": item, "replicas": {"min": 1, "max": 1}} if isinstance(item, str) else item for item in value]
    if key == "watchPaths" and isinstance(value, str):
        return [value]
    return value


def _scalar_text(path: Path, node: Any, where: str) -> str:
    import yaml

    if not isinstance(node, yaml.ScalarNode) or not str(node.value):
        _fail(path, node, where, "must be a slug, e.g. acme")
    return str(node.value)


def _fail(path: Path, node: Any, where: str, reason: str) -> NoReturn:
    line = node.start_mark.line + 1
    raise ConfigError(f"{path} line {line}: {where} {reason}")
