"""Printing and applying an environment's settings, shared by `unkey environments` and `unkey deploy`:
how a setting is shown, and applying a set of wanted settings (only the differences) or unkey.yaml's
`domains:` (only the missing ones) to an environment."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any

from unkey_deploy.cli import _common as common
from unkey_deploy.cli.options import Output

if TYPE_CHECKING:
    from unkey_deploy.api.platform import PlatformAPI

LABELS = {
    "port": "Port", "vCpus": "CPU (vCPUs)", "memoryMib": "Memory (MiB)", "storageMib": "Storage (MiB)",
    "command": "Command", "healthcheck": "Health check", "shutdownSignal": "Shutdown signal",
    "upstreamProtocol": "Protocol", "openapiSpecPath": "OpenAPI spec path", "dockerfile": "Dockerfile",
    "rootDirectory": "Root directory", "buildCommand": "Build command", "watchPaths": "Watch paths",
    "autoDeploy": "Auto deploy", "regions": "Regions",
}


def show_value(name: str, value: Any) -> str:
    """A setting as people write it: `GET /healthz`, `node server.js`, `us-east-1 (1-3)`, `-` when unset."""
    if value is None or value == [] or value == "":
        return "-"
    if name == "healthcheck" and isinstance(value, dict):
        return f"{value.get('method', 'GET')} {value.get('path', '')}"
    if name == "command" and isinstance(value, list):
        return shlex.join(str(part) for part in value)
    if name == "regions" and isinstance(value, list):
        parts = []
        for region in value:
            if isinstance(region, dict):
                replicas: dict[str, Any] = region["replicas"] if isinstance(region.get("replicas"), dict) else {}
                parts.append(f"{region.get('name')} ({replicas.get('min', '?')}-{replicas.get('max', '?')})")
        return ", ".join(parts)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def apply_settings(api: PlatformAPI, names: tuple[str, str, str], wanted: dict[str, Any], *, dry_run: bool,
                   fmt: Output, out: Any = None) -> dict[str, Any]:
    """Compare `wanted` with the environment's settings, print the difference, and send only that
    (nothing with `dry_run`). Returns what happened, for --output json."""
    from unkey_deploy.api.platform import current_settings, settings_diff

    where = "/".join(names)
    human = out or (sys.stdout if fmt is Output.text else sys.stderr)
    changes = settings_diff(current_settings(api.environment(*names)), wanted)
    result: dict[str, Any] = {
        "environment": where,
        "changes": {name: {"from": before, "to": after} for name, (before, after) in changes.items()},
        "applied": False,
        "dryRun": dry_run,
    }
    if not changes:
        print(f"{where}: settings already match; nothing to change", file=human)
        return result
    print(f"{where}: {len(changes)} setting(s) to change", file=human)
    for name, (before, after) in changes.items():
        label = LABELS.get(name, name)
        print(f"  {label}: {common.printable(show_value(name, before))} -> {common.printable(show_value(name, after))}",
              file=human)
    if dry_run:
        print("dry run: nothing was sent", file=human)
        return result
    api.update_settings(*names, {name: after for name, (_, after) in changes.items()})
    result["applied"] = True
    print(f"Updated {where}; the settings apply to its next deployment", file=human)
    return result


def apply_domains(api: PlatformAPI, names: tuple[str, str, str], domains: list[str], *, dry_run: bool,
                  human: Any) -> list[str]:
    """Attach the `domains:` of unkey.yaml that the environment does not have yet (none is ever removed);
    returns the ones added (or that would be, with `dry_run`)."""
    if not domains:
        return []
    where = "/".join(names)
    body = {"project": names[0], "app": names[1], "environment": names[2]}
    have = {str(d.get("domain", "")).lower() for page in api.pages("domains.listDomains", body) for d in page.items}
    missing = [name for name in dict.fromkeys(domains) if name not in have]
    for name in missing:
        if dry_run:
            print(f"  Domain: would add {name}", file=human)
            continue
        created = api.object("domains.createDomain", {**body, "domain": name}, idempotent=False)
        print(f"Added domain {name} to {where}; DNS records to create:", file=human)
        for record in created.get("dnsRecords") or []:
            if isinstance(record, dict):
                print(f"  {common.printable(record.get('type'))} {common.printable(record.get('name'))} -> "
                      f"{common.printable(record.get('value'))}", file=human)
    return missing
