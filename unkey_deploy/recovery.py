"""`unkey deploy --rollback-on-failure`: remember what served the environment before a deployment, and
put it back when the new one fails, times out or fails verification.

The deployment that was current is found with deployments.listDeployments before the new one is
created. After a failure the environment is read again: when the new deployment took over (it became
READY and current), the environment is rolled back to the remembered one with deployments.rollbackDeployment
and the command waits until the rollback shows. When the old deployment is still current nothing is
sent. Without a previous deployment there is nothing to roll back to, and the summary says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unkey_deploy.errors import UnkeyError

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client
    from unkey_deploy.api.deployments import Deployment, PublicDeployments


@dataclass
class Recovery:
    """What happened after a failed deployment, as one summary."""

    failed_id: str
    reason: str
    rolled_back: bool = False
    serving: str | None = None  # the deployment serving the environment now, when known
    lines: list[str] = field(default_factory=list)  # what was done (the reason is the command's error)

    @property
    def headline(self) -> str:
        from unkey_deploy.report.safe import text as printable

        return f"Deployment {self.failed_id} failed: {printable(self.reason)}"

    def to_json(self) -> dict[str, Any]:
        return {"failedDeploymentId": self.failed_id, "reason": self.reason, "rolledBack": self.rolled_back,
                "servingDeploymentId": self.serving, "summary": " ".join(self.lines)}  # fmt: skip


@dataclass
class RollbackGuard:
    """The environment's current deployment before a new one, and the way back to it."""

    api: PublicDeployments
    project: str
    app: str
    environment: str
    previous: Deployment | None
    timeout: float = 120.0

    @classmethod
    def prepare(cls, client: Client, project: str, app: str, environment: str, timeout: float = 120.0) -> RollbackGuard:
        from unkey_deploy.api.deployments import PublicDeployments

        api = PublicDeployments(client)
        return cls(api, project, app, environment, api.current(project, app, environment), timeout)

    @property
    def where(self) -> str:
        return f"{self.project}/{self.app} ({self.environment})"

    def describe_before(self) -> str:
        if self.previous is None:
            hint = "" if self.environment == "production" else " (only production has a current deployment)"
            return f"Rollback on failure: {self.where} has no current deployment to roll back to{hint}"
        return f"Rollback on failure: {self.previous.id} serves {self.where} now and is the one to return to"

    def recover(self, failed_id: str, reason: str, *, still_running: bool = False) -> Recovery:
        """Put the previous deployment back if the failed one took its place; never raises. `still_running`:
        the failed deployment timed out and may yet become current."""
        from unkey_deploy import actions
        from unkey_deploy.report.safe import text as printable

        recovery = Recovery(failed_id, reason)
        set_deadline = getattr(self.api.client, "set_deadline", None)
        if set_deadline is not None:  # the deploy's --timeout may be used up: the rollback gets its own time
            set_deadline(self.timeout + 30)
        if self.previous is None:
            recovery.lines = [f"Not rolled back: {self.where} had no current deployment before it, so "
                              "there is nothing to roll back to."]  # fmt: skip
            return recovery
        previous = self.previous
        try:
            current = self.api.current(self.project, self.app, self.environment)
            if current is not None and current.id == previous.id:
                recovery.serving = previous.id
                recovery.lines = [f"Not rolled back: {previous.id} never stopped serving {self.where}; "
                                  "nothing was changed."]  # fmt: skip
                if still_running:
                    recovery.lines.append(
                        f"{failed_id} is still in progress and may take over when it becomes ready: follow it "
                        f"with `unkey deployments wait {failed_id}`, then `unkey deployments rollback {previous.id}`"
                    )
                return recovery
            target = self.api.describe(previous.id)
            refusal = actions.refusal("rollback", target)
            if refusal:
                raise UnkeyError(refusal)
            change = actions.apply(self.api, "rollback", target, previous_current=current, timeout=self.timeout)
        except UnkeyError as exc:
            recovery.lines = [f"Rollback to {previous.id} FAILED: {printable(exc.message)}; roll back by "
                              f"hand: `unkey deployments rollback {previous.id} --yes`"]  # fmt: skip
            return recovery
        recovery.rolled_back = True
        recovery.serving = change.after.id
        replaced = current.id if current else failed_id
        recovery.lines = [
            f"Rolled back {self.where} from {replaced} to {previous.id}, which serves it now.",
            "New deployments stay off live traffic until you promote one: `unkey deployments promote ID`.",
        ]
        return recovery
