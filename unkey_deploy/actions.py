"""Deployment actions (promote, rollback, stop, start): whether one applies, and seeing it take effect.

The API answers an action with 202 and applies it shortly after, so `apply` asks for it and then polls
deployments.getDeployment until the change shows: the deployment becomes current (promote, rollback)
or reaches its new status (stop, start).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from unkey_deploy.api.deployments import NEEDS_STATUS, PRODUCTION_ACTIONS, Action, Deployment, PublicDeployments
from unkey_deploy.errors import DeadlineExceeded, DeploymentFailed, DeployTimeout

TARGET_STATUS = {"stop": "stopped", "start": "ready"}
PARTICIPLE = {"promote": "promoted", "rollback": "rolled back to", "stop": "stopped", "start": "started"}


@dataclass(frozen=True)
class Change:
    action: Action
    before: Deployment
    after: Deployment
    previous_current: Deployment | None = None  # promote/rollback: what served production before


def refusal(action: Action, deployment: Deployment) -> str | None:
    """Why `action` does not apply to `deployment` (one line), or None when its availableActions allow it."""
    if action in deployment.available_actions:
        return None
    d = deployment
    where = f"{d.project}/{d.app}"
    if action in PRODUCTION_ACTIONS and not d.is_production:
        return (
            f"{action} is for production deployments; {d.id} is a {d.environment or 'preview'} deployment "
            "(preview deployments can be stopped and started)"
        )
    if action not in PRODUCTION_ACTIONS and d.is_production:
        return (
            f"{action} is for preview deployments; {d.id} is in production, where deployments keep running "
            "(use promote or rollback there)"
        )
    if action == "rollback" and d.is_current:
        return (
            f"{d.id} is the current deployment of {where} and cannot be rolled back to; pick an earlier ready one "
            f"from `unkey deployments list --project={d.project} --app={d.app} --env=production --status=ready`"
        )
    if action == "promote" and d.is_current:
        return f"{d.id} is already the current deployment of {where}"
    if d.status != NEEDS_STATUS[action]:
        return f"{d.id} is {d.status}; only a {NEEDS_STATUS[action]} deployment can be {PARTICIPLE[action]}"
    allowed = ", ".join(d.available_actions) or "none"
    hint = "; the app has no current deployment yet" if action in PRODUCTION_ACTIONS else ""
    return f"the API does not allow {action} on {d.id} right now (available actions: {allowed}){hint}"


def took_effect(action: Action, deployment: Deployment) -> bool:
    if action in TARGET_STATUS:
        return deployment.status == TARGET_STATUS[action]
    return deployment.is_current


def apply(
    api: PublicDeployments,
    action: Action,
    deployment: Deployment,
    *,
    previous_current: Deployment | None = None,
    timeout: float = 120.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Change:
    """Ask for `action` and wait until getDeployment shows it; DeployTimeout when it does not in time."""
    api.act(action, deployment.id)
    deadline = clock() + timeout
    delay = 0.2
    after = deployment
    while True:
        sleep(delay)
        try:
            after = api.describe(deployment.id)
        except DeadlineExceeded:
            raise _not_shown(action, deployment, after, timeout) from None
        if took_effect(action, after):
            return Change(action, deployment, after, previous_current)
        if after.status == "failed":
            reason = (after.error or {}).get("message") or "no reason given"
            raise DeploymentFailed(f"{action} of {deployment.id} failed: {reason}")
        if clock() >= deadline:
            raise _not_shown(action, deployment, after, timeout)
        delay = min(1.0, delay * 1.5)


def _not_shown(action: Action, deployment: Deployment, after: Deployment, timeout: float) -> DeployTimeout:
    return DeployTimeout(
        f"the {action} of {deployment.id} was accepted but has not shown after {timeout:g}s "
        f"(status: {after.status}); check it with `unkey deployments get {deployment.id}`"
    )


def question(action: Action, deployment: Deployment, previous_current: Deployment | None) -> str:
    """What the confirmation prompt asks."""
    d = deployment
    where = f"{d.project}/{d.app}"
    current = previous_current.id if previous_current else "none"
    if action == "promote":
        return f"Promote {d.id} to serve {where} production traffic (current: {current})?"
    if action == "rollback":
        return f"Roll back {where} production from {current} to {d.id}?"
    return f"{action.title()} {d.environment} deployment {d.id} of {where}?"


def describe(change: Change) -> str:
    """One line saying what changed."""
    d = change.after
    where = f"{d.project}/{d.app}"
    previous = change.previous_current
    if change.action == "promote":
        if previous and previous.id == d.id:
            return (
                f"✓ {d.id} stays the current deployment of {where} (production); the rollback is confirmed "
                "and new deployments go live automatically again"
            )
        replaced = f", replacing {previous.id}" if previous else ""
        return f"✓ {d.id} is now the current deployment of {where} (production){replaced}"
    if change.action == "rollback":
        source = f" from {previous.id}" if previous else ""
        return (
            f"✓ Rolled back {where} (production){source} to {d.id}; new deployments stay off live traffic "
            f"until you promote one"
        )
    return f"✓ {d.id} is now {d.status} (was {change.before.status})"
