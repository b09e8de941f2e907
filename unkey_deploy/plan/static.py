"""Static sites: files served by busybox httpd on $PORT."""

from __future__ import annotations

import re

from unkey_deploy.plan._commands import STATIC_SERVER, STATIC_SERVER_CMD
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe


def plan(ctx: Context) -> Plan:
    src = ctx.src
    root = "."
    staticfile = re.search(r"^root:\s*(\S+)", src.text("Staticfile") or "", re.MULTILINE)
    if staticfile:
        root = staticfile.group(1).strip("/") or "."
        ctx.reasons.append(f"site root {root}/: root: in Staticfile")
    elif not src.exists("index.html") and src.exists("public/index.html"):
        root = "public"
        ctx.reasons.append("site root public/: public/index.html found")
    recipe = Recipe(
        runtime_image=ctx.image("static"), workdir="/srv", copy_from=root, cmd=STATIC_SERVER_CMD,
        dockerignore=list(ctx.pack.dockerignore),
    )
    ctx.reasons.append("start: busybox httpd serves the files on $PORT")
    return ctx.plan(language="static", start_command=STATIC_SERVER, recipe=recipe)
