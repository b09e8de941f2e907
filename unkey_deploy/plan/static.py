"""Static sites, and the static server every static build uses: nginx on $PORT as a non-root user.

Like the static hosts, `/about` answers `about.html` and a site's own `404.html` is its not-found page.
A single-page app (client-side router) gets `/index.html` as the last `try_files` step, so a path that is not a
file, such as /settings, answers the app's index.html instead of a 404. Whether a site is one comes from
`static: {spa: true|false}` in unkey.yaml, else a framework marked `spa: true`, a client-router
dependency, or an SPA rewrite some hosting file already declares (Netlify `_redirects`, vercel.json, ...).
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from unkey_deploy.plan._buildpacks import Buildpack, Framework, load_buildpacks
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe

ROOT = "/app"  # the working directory, owned by the runtime user like every generated image's
TEMPLATE = "/etc/nginx/unkey-static.conf"
# The config is a template: the start command puts $PORT in and nginx reads the result from /tmp, so the
# server runs as any user and on whatever port the platform gives it.
START = (
    f'sed "s/@PORT@/$PORT/g" {TEMPLATE} > /tmp/nginx.conf '
    "&& exec nginx -e /dev/stderr -c /tmp/nginx.conf -g 'daemon off;'"
)


@dataclass(frozen=True)
class StaticServer:
    """What a recipe needs to serve `ROOT`: image, root-owned config step, command."""

    image: str
    setup: list[str]
    cmd: list[str]
    start_command: str
    spa: bool


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
    server = static_server(ctx, spa=is_spa(ctx, roots=[root]))
    recipe = Recipe(
        runtime_image=server.image, workdir=ROOT, copy_from=root, runtime_setup=server.setup, cmd=server.cmd,
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="static", start_command=server.start_command, recipe=recipe)


def static_server(ctx: Context, *, spa: bool) -> StaticServer:
    """nginx serving `ROOT` on $PORT; with `spa`, unknown paths that are not files answer /index.html."""
    pack = _pack()
    image = ctx.image_of(pack, "static")
    fallback = "/index.html" if spa else "=404"
    ctx.reasons.append(f"start: nginx serves {ROOT} on $PORT" + (", unknown paths answer /index.html" if spa else ""))
    return StaticServer(image=image, setup=[_write_config(nginx_config(fallback))], cmd=["sh", "-c", START],
                        start_command=START, spa=spa)


def is_spa(ctx: Context, *, dependencies: Container[str] = (), framework: Framework | None = None,
           roots: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether the static build is a single-page app, with the reason in the plan."""
    configured = ctx.setting("static", "spa", bool)
    if configured is not None:
        ctx.reasons.append(f"SPA fallback {'on' if configured else 'off'}: static.spa in {ctx.config_name}")
        return bool(configured)
    if framework is not None and framework.spa:
        ctx.reasons.append(f"SPA fallback on: {framework.id} builds a single-page app (set static.spa to change)")
        return True
    spa = _pack().data.get("spa") or {}
    router = next((dep for dep in spa.get("routers") or () if dep in dependencies), None)
    if router:
        ctx.reasons.append(f"SPA fallback on: client-side router {router} in package.json (set static.spa to change)")
        return True
    for name, pattern in (spa.get("files") or {}).items():
        for base in dict.fromkeys([".", *roots]):
            rel = name if base == "." else f"{base}/{name}"
            text = ctx.src.text(rel) if ctx.src.exists(rel) else None
            if text is not None and (not pattern or re.search(pattern, text)):
                ctx.reasons.append(f"SPA fallback on: {rel} declares one (set static.spa to change)")
                return True
    return False


def nginx_config(fallback: str) -> list[str]:
    """The server's nginx.conf, one line each; `@PORT@` is replaced at start. Every path it writes is in /tmp."""
    return [
        "worker_processes auto;",
        "pid /tmp/nginx.pid;",
        "events { worker_connections 1024; }",
        "http {",
        "  include /etc/nginx/mime.types;",
        "  default_type application/octet-stream;",
        "  access_log /dev/stdout;",
        "  client_body_temp_path /tmp/nginx-body;",
        "  proxy_temp_path /tmp/nginx-proxy;",
        "  fastcgi_temp_path /tmp/nginx-fastcgi;",
        "  uwsgi_temp_path /tmp/nginx-uwsgi;",
        "  scgi_temp_path /tmp/nginx-scgi;",
        "  sendfile on;",
        "  server_tokens off;",
        "  gzip on;",
        "  gzip_types text/css application/javascript application/json image/svg+xml text/plain;",
        "  server {",
        "    listen @PORT@;",
        f"    root {ROOT};",
        "    index index.html;",
        # As static hosts do (GitHub Pages, Netlify, Vercel): /about answers about.html, and a site's own
        # 404.html is its not-found page (nginx's own when there is none).
        f"    location / {{ try_files $uri $uri.html $uri/ {fallback}; }}",
        "    error_page 404 /404.html;",
        "  }",
        "}",
    ]


def _write_config(lines: list[str]) -> str:
    # Double quotes with \$ rather than single quotes: shellcheck (hadolint) flags `$` in single quotes.
    quoted = " \\\n        ".join('"' + line.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'
                                   for line in lines)
    return f"printf '%s\\n' \\\n        {quoted} \\\n        > {TEMPLATE}"


def _pack() -> Buildpack:
    return load_buildpacks()["static"]
