"""Shell scripts: start.sh runs the app in a slim Debian image."""

from __future__ import annotations

from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe

SCRIPT = "start.sh"


def plan(ctx: Context) -> Plan:
    first = (ctx.src.text(SCRIPT) or "").splitlines()[:1]
    shell = "bash" if first and "bash" in first[0] else "sh"
    ctx.reasons.append(f"start: {shell} {SCRIPT} ({'bash' if shell == 'bash' else 'POSIX sh'} shebang)")
    recipe = Recipe(
        runtime_image=ctx.image("shell"), cmd=[shell, SCRIPT], create_user=True, user="app",
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="shell", start_command=f"{shell} {SCRIPT}", recipe=recipe)
