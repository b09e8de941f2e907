"""The image name a build gets when none is given: `image:` from unkey.yaml (or the directory's name)
tagged with the git short SHA, plus `-dirty-<time>` when the work tree has uncommitted changes."""

from __future__ import annotations

import re
import time
from pathlib import Path

from unkey_deploy.source import Source


def image_tag(source: Source) -> str:
    if source.short_sha is None:
        return "latest"
    if source.dirty:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        return f"{source.short_sha}-dirty-{stamp}"
    return source.short_sha


def default_repository(app_dir: Path) -> str:
    """A local repository name from the app's directory (`My App` → `my-app`)."""
    name = re.sub(r"[^a-z0-9]+", "-", app_dir.resolve().name.lower()).strip("-")
    return name or "app"


def default_ref(repository: str | None, app_dir: Path, source: Source) -> str:
    return f"{repository or default_repository(app_dir)}:{image_tag(source)}"
