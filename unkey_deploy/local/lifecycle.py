"""Unkey's deployment rules over the store: who is current, which actions apply, what they do.

- Only production has a current deployment (one per app).
- A production deployment becomes current when it turns READY, unless the app was rolled back.
- Rollback pins its target as current until a promote clears the rolled-back state.
- Promote and rollback are for production deployments, stop and start for previews.
- Actions are accepted at once and take effect `action_delay` seconds later, as on Unkey.
- The current deployment of a production environment also answers on the environment's stable URL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from unkey_deploy.api.deployments import PRODUCTION_ACTIONS, Action, action_blocker
from unkey_deploy.local.proxy import EnvironmentProxies
from unkey_deploy.local.runtime import Cancelled, Runtime, RuntimeFailure
from unkey_deploy.local.store import AppState, Deployment, Store

log = logging.getLogger("unkey.local")

INTERRUPTED = (
    "the local control plane stopped while this deployment was in progress; deploy again "
    "(`unkey deployments redeploy ID`)"
)
NEEDS = {"promote": "ready", "rollback": "ready", "stop": "running", "start": "stopped"}  # as the refusals say it


def refusal(action: Action, deployment: Deployment, state: AppState) -> str | None:
    """Why `action` cannot apply to `deployment` right now, or None when it can (`api.deployments`' rules)."""
    d = deployment
    blocker = action_blocker(
        action, production=d.is_production, status=d.status, current=d.id == state.current_deployment_id,
        has_current=state.current_deployment_id is not None, rolled_back=state.rolled_back,
    )
    if blocker == "environment":
        if action in PRODUCTION_ACTIONS:
            return f"{action} applies to production deployments only; {d.id} is in {d.environment}"
        return f"{action} applies to preview deployments only; production deployments keep running"
    if blocker == "status":
        return f"{action} needs a {NEEDS[action]} deployment; {d.id} is {d.status}"
    if blocker == "no_current":
        return f"the app has no current deployment to {action} from"
    if blocker == "current":
        if action == "rollback":
            return f"{d.id} is already the current deployment and cannot be rolled back to"
        return f"{d.id} is already the current deployment"
    return None


class Controller:
    def __init__(
        self,
        store: Store,
        runtime: Runtime,
        stopping: threading.Event,
        *,
        action_delay: float = 0.2,
        proxies: EnvironmentProxies | None = None,
    ) -> None:
        self.store = store
        self.proxies = proxies
        self.runtime = runtime
        self.action_delay = action_delay
        self.stopping = stopping
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def recover(self) -> None:
        """Deployments left in flight by a previous run cannot be resumed: mark them failed."""
        for deployment in self.store.in_flight():
            self.store.advance(
                deployment.id, "failed", "Interrupted", error_message=INTERRUPTED, error_step=deployment.status
            )

    def submit(self, deployment: Deployment) -> None:
        self._spawn(self._deploy, deployment, name=f"deploy-{deployment.id}")

    def apply(self, action: Action, deployment: Deployment) -> None:
        """Carry out an accepted action after the usual short delay."""
        self._spawn(self._apply_later, action, deployment, name=f"{action}-{deployment.id}")

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _spawn(self, target: Callable[..., None], *args: object, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _deploy(self, deployment: Deployment) -> None:
        def advance(status: str, message: str) -> None:
            if self.stopping.is_set():
                raise Cancelled()
            self.store.advance(deployment.id, status, message)
            log.info("%s %s: %s", deployment.id, status.upper(), message)

        try:
            placement = self.runtime.deploy(deployment, advance)
        except Cancelled:
            return
        except RuntimeFailure as failure:
            self.store.advance(
                deployment.id, "failed", "Deployment failed", error_message=failure.message, error_step=failure.step
            )
            log.info("%s FAILED: %s", deployment.id, failure.message)
            return
        except Exception as exc:  # a runtime bug must still end the deployment, not leave it pending
            log.exception("deployment %s crashed", deployment.id)
            self.store.advance(
                deployment.id, "failed", "Deployment failed", error_message=f"unexpected error: {exc}",
                error_step="deploying",
            )
            return
        if deployment.is_production:  # listening before READY shows, so READY always lists the URL
            self._serve_stable_url(deployment)
        self.store.advance(
            deployment.id,
            "ready",
            "Deployment is ready",
            hostnames=placement.hostnames,
            port=placement.port,
            container_id=placement.container_id,
            claim_current=deployment.is_production,
        )
        log.info("%s READY at %s", deployment.id, ", ".join(placement.hostnames))

    def _apply_later(self, action: Action, deployment: Deployment) -> None:
        if self.stopping.wait(self.action_delay):
            return
        fresh = self.store.get_deployment(deployment.id) or deployment
        if action in PRODUCTION_ACTIONS:
            self._serve_stable_url(fresh)
            self.store.set_current(fresh.project, fresh.app, fresh.id, rolled_back=action == "rollback")
        elif action == "stop":
            self.runtime.stop(fresh)
            self.store.advance(fresh.id, "stopped", "Deployment stopped")
        elif action == "start":
            self.runtime.start(fresh)
            self.store.advance(fresh.id, "ready", "Deployment started")
        log.info("%s %s applied", fresh.id, action)

    def stable_url_port(self, deployment: Deployment) -> int | None:
        """The environment's stable port when `deployment` is the one it forwards to."""
        if not self.proxies or not deployment.is_production:
            return None
        if self.store.app_state(deployment.project, deployment.app).current_deployment_id != deployment.id:
            return None
        return self.proxies.port(deployment.project, deployment.app, deployment.environment)

    def _serve_stable_url(self, deployment: Deployment) -> None:
        if self.proxies:
            self.proxies.ensure(deployment.project, deployment.app, deployment.environment)
