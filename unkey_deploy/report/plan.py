"""The build plan and a dry run's build request as text (`unkey plan`, `unkey build --dry-run`,
`unkey deploy --build --dry-run`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from unkey_deploy.image.build import BuildRequest
    from unkey_deploy.plan import Plan


def format_plan(plan: Plan) -> str:
    """The plan as labelled lines, then why each choice was made and any warnings."""
    data = plan.to_json()
    versions = ", ".join(f"{tool} {version}" for tool, version in data["versions"].items()) or "-"
    rows = [
        ("Language", data["language"]),
        ("Package manager", data["packageManager"]),
        ("Framework", data["framework"]),
        ("Versions", versions),
        ("Install", data["installCommand"]),
        ("Build", data["buildCommand"]),
        ("Start", data["startCommand"]),
        ("Port", str(data["port"])),
        ("Dockerfile", data["dockerfile"]["path"] if not plan.generated else "generated (see `unkey dockerfile`)"),
        ("Build context", data["context"]),
    ]
    if data["baseImages"]:
        images = data["baseImages"]
        rows.append(("Base images", " → ".join(i for i in (images["build"], images["runtime"]) if i)))
    width = max(len(label) for label, _ in rows) + 1
    lines = [f"{label + ':':<{width}} {value or '-'}" for label, value in rows]
    lines.append("Why:")
    lines += [f"  - {reason}" for reason in data["reasons"]]
    if data["warnings"]:
        lines.append("Warnings:")
        lines += [f"  - {warning}" for warning in data["warnings"]]
    return "\n".join(lines)


def print_build_dry_run(stream: TextIO, plan: Plan, request: BuildRequest) -> None:
    """--dry-run of a build: the plan, the generated Dockerfile, and the build request."""
    print(format_plan(plan), file=stream)
    if request.dockerfile_text is not None:
        print("\nDockerfile (generated):\n", file=stream)
        print(request.dockerfile_text.rstrip("\n"), file=stream)
    print("\nBuild:", file=stream)
    print(json.dumps(request.to_json(), indent=2), file=stream)
    print("\nDry run: building locally; nothing is pushed.", file=stream, flush=True)
