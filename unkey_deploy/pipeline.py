"""The deploy pipeline: (source → plan → image → pushed image) → deployment → outcome.

`deploy_image` is what `unkey deploy IMAGE` runs; with --build, `prepare_build` and `run_build` come first
and hand it the pushed image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unkey_deploy.api.deployments import DeploymentRequest, DeploymentsAPI, Family
from unkey_deploy.errors import DeploymentFailed, Interrupted, UnkeyError, UsageError
from unkey_deploy.report import Reporter
from unkey_deploy.rollout import Outcome, watch
from unkey_deploy.source import Source

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client
    from unkey_deploy.image.build import BuildRequest, BuiltImage
    from unkey_deploy.image.push import PushedImage, RegistryAuth
    from unkey_deploy.image.secrets import BuildVariables
    from unkey_deploy.plan import Plan
    from unkey_deploy.recovery import Recovery, RollbackGuard
    from unkey_deploy.verify import CheckSettings, Verification


@dataclass(frozen=True)
class Target:
    """Where a deployment goes and how to reach the API."""

    project: str
    app: str
    environment: str
    api_url: str
    root_key: str
    keyspace_id: str | None = None
    family: Family = "deploy"
    timeout: float = 600.0


def deployment_request(target: Target, source: Source, image: str) -> DeploymentRequest:
    return DeploymentRequest(
        project=target.project,
        app=target.app,
        environment=target.environment,
        image=image,
        branch=source.branch,
        keyspace_id=target.keyspace_id,
        git_commit=source.commit,
    )


def url_for(hostname: str) -> str:
    """Domains as URLs: https://, but http:// for localhost hostnames."""
    if "://" in hostname:
        return hostname
    host = hostname.split(":", 1)[0]
    local = host in ("localhost", "127.0.0.1", "[::1]") or host.endswith(".localhost")
    return f"{'http' if local else 'https'}://{hostname}"


def summary(target: Target, source: Source, image: str, outcome: Outcome) -> dict[str, Any]:
    """The result as `--output json` prints it."""
    state = outcome.state
    result: dict[str, Any] = {
        "deploymentId": outcome.deployment_id,
        "status": state.status,
        "project": target.project,
        "app": target.app,
        "environment": target.environment,
        "branch": source.branch,
        "commit": source.commit.commit_sha if source.commit else None,
        "image": image,
        "hostnames": list(state.hostnames),
        "urls": [url_for(h) for h in state.hostnames],
        "durationMs": outcome.duration_ms,
    }
    if state.status != "READY":
        result["error"] = failure_message(outcome)
    return result


def failure_message(outcome: Outcome) -> str:
    state = outcome.state
    if state.status == "FAILED":
        reason = state.error_message or "no reason given"
        where = f" at {state.failed_step}" if state.failed_step else ""
        return f"deployment {outcome.deployment_id} failed{where}: {reason}"
    return f"deployment {outcome.deployment_id} ended {state.status.lower()} instead of ready"


def deploy_image(
    api: DeploymentsAPI, request: DeploymentRequest, target: Target, reporter: Reporter
) -> Outcome:
    """Create the deployment and watch it until it is ready, fails or time runs out."""
    started = time.monotonic()
    deployment_id = api.create(request)
    return follow(api, deployment_id, target, reporter, started)


def follow(api: DeploymentsAPI, deployment_id: str, target: Target, reporter: Reporter, started: float) -> Outcome:
    """Watch a created deployment (`started`: monotonic time of its creation); Ctrl-C leaves it running."""
    reporter.info(f"✓ Deployment created: {deployment_id}")
    try:
        outcome = watch(api, deployment_id, reporter, timeout=target.timeout, started=started)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted; deployment {deployment_id} keeps running: "
            f"check it with `unkey deployments get {deployment_id}`"
        ) from None
    return outcome


def raise_if_failed(outcome: Outcome) -> None:
    if not outcome.ready:
        raise DeploymentFailed(failure_message(outcome))


@dataclass(frozen=True)
class BuildSettings:
    """The build flags of `unkey deploy --build`."""

    context: Path
    image: str | None = None
    registry: str | None = None
    root_dir: str | None = None
    dockerfile: Path | None = None
    env_files: tuple[Path, ...] = ()
    var_flags: tuple[str, ...] = ()
    build_args: tuple[str, ...] = ()
    platform: str = "linux/amd64"
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    builder: str | None = None
    docker_bin: str | None = None
    builder_backend: str | None = None  # --builder-backend; None: UNKEY_BUILDER_BACKEND, unkey.yaml, else auto
    registry_username: str | None = field(default=None, repr=False)
    registry_password: str | None = field(default=None, repr=False)
    local: bool = False
    dry_run: bool = False
    push: bool | None = None  # None: push unless --dry-run, or --local without a repository on the command line
    max_context: int | None = 2 * 1024**3  # refuse a larger build context (--max-context); None: no limit


@dataclass(frozen=True)
class PreparedBuild:
    plan: Plan
    request: BuildRequest
    ref: str
    push: bool
    auth: RegistryAuth | None = field(default=None, repr=False)
    skip_reason: str | None = None  # why the build is skipped (no engine with --local)
    into_engine: bool = False  # --local without a push: a daemonless build is copied into the Docker engine
    max_context: int | None = None


@dataclass(frozen=True)
class BuildResult:
    built: BuiltImage | None  # None when the build was skipped
    pushed: PushedImage | None
    ref: str  # what to deploy: `repo:tag@sha256:...` once pushed

    def to_json(self) -> dict[str, Any]:
        built = self.built.to_json() if self.built else {"ref": self.ref, "imageId": None, "contextBytes": None}
        return {**built, "pushed": self.pushed.to_json() if self.pushed else None}


def prepare_build(settings: BuildSettings, source: Source) -> PreparedBuild:
    """Everything decided before the build runs: plan, variables (names checked), image name, push, auth."""
    from unkey_deploy.image.push import RegistryAuth, registry_of
    from unkey_deploy.imageref import parse_image
    from unkey_deploy.plan import make_plan

    plan = make_plan(settings.context, root_dir=settings.root_dir, dockerfile=settings.dockerfile)
    variables = collect_variables(plan, list(settings.env_files), list(settings.var_flags))
    ref, push = _image_for_build(settings, plan, source)
    request = build_request(plan, ref, variables, settings.platform, list(settings.build_args),
                            list(settings.cache_from), list(settings.cache_to), settings.builder,
                            settings.docker_bin, settings.builder_backend)  # fmt: skip
    auth = None
    if push:
        auth = RegistryAuth.resolve(
            registry_of(parse_image(ref)), username=settings.registry_username, password=settings.registry_password
        )
    skip = None
    if settings.local and not settings.dry_run:
        skip = _engine_problem(settings.docker_bin, settings.builder)
    return PreparedBuild(plan, request, ref, push, auth, skip, settings.local and not push, settings.max_context)


def run_build(prepared: PreparedBuild, reporter: Reporter) -> BuildResult:
    """Build, then push when needed."""
    from unkey_deploy.image.build import build_image
    from unkey_deploy.image.push import push_image

    for warning in prepared.plan.warnings:
        reporter.warn(warning)
    if prepared.skip_reason:
        reporter.warn(f"{prepared.skip_reason}: skipping the build; the local control plane only simulates "
                      "deployments without a Docker engine")  # fmt: skip
        return BuildResult(None, None, prepared.ref)
    if prepared.max_context is not None:
        from unkey_deploy.image.context_size import enforce

        enforce(prepared.request.context, prepared.request, prepared.max_context, reporter)
    stage = "build"
    try:
        built = build_image(prepared.request, reporter)
        if not prepared.push:
            if prepared.into_engine and built.backend != "docker":
                from unkey_deploy.image.daemonless import copy_to_docker

                copy_to_docker(built.backend, built.ref, reporter)
            return BuildResult(built, None, built.ref)
        stage = "push"
        pushed = push_image(prepared.ref, prepared.auth, reporter, built.backend)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted during the {stage}; nothing was deployed") from None
    return BuildResult(built, pushed, pushed.ref_with_digest)


def _image_for_build(settings: BuildSettings, plan: Plan, source: Source) -> tuple[str, bool]:
    """(image reference, push?) — IMAGE, else --registry, else `image:` in unkey.yaml, tagged with the git
    short SHA when untagged. With --local and no repository given on the command line nothing is pushed:
    the local engine already has the image."""
    from unkey_deploy.image.naming import default_ref, image_tag
    from unkey_deploy.imageref import parse_image

    explicit = settings.image or settings.registry
    if explicit:
        given = parse_image(explicit)
        if not given.tag and not given.digest:
            given = given.with_tag(image_tag(source))
        return str(given), not settings.dry_run if settings.push is None else settings.push
    repository = configured_repository(plan)
    ref = default_ref(repository, plan.app_dir, source)
    if settings.push is not None:
        return ref, settings.push
    if settings.local:
        return ref, False
    if repository is None:
        raise UsageError(
            "no image repository to push to: pass IMAGE, --registry REPO (e.g. ghcr.io/acme/api) or set "
            "`image:` in unkey.yaml; or use --local to run the build on the local control plane"
        )
    return ref, not settings.dry_run


def _engine_problem(docker_bin: str | None, builder: str | None) -> str | None:
    from unkey_deploy.image.build import check_engine, select_builder

    try:
        check_engine(select_builder(docker_bin, builder))
    except UnkeyError as exc:
        return exc.message
    return None


def collect_variables(plan: Plan, env_files: list[Path], var_flags: list[str]) -> BuildVariables:
    """unkey.yaml `variables:` < --env-file < --var; a bad name fails here, before anything runs."""
    from unkey_deploy.image.secrets import BuildVariables, parse_config_variables

    config, config_path = _project_config(plan)
    raw = config.get("variables") or {}
    layer = parse_config_variables(raw, str(config_path)) if config_path else {}
    return BuildVariables.collect(config=layer, env_files=env_files, var_flags=var_flags)


def configured_repository(plan: Plan) -> str | None:
    """The repository of `image:` in the project's unkey.yaml, if it sets one."""
    from unkey_deploy.imageref import parse_image

    config, config_path = _project_config(plan)
    repository = config.get("image")
    if repository is not None and not isinstance(repository, str):
        raise UsageError(f"{config_path}: `image` must be a repository such as ghcr.io/acme/api")
    return parse_image(repository).repository if repository else None


def build_request(
    plan: Plan,
    ref: str,
    variables: BuildVariables,
    platform: str,
    build_args: list[str],
    cache_from: list[str],
    cache_to: list[str],
    builder: str | None,
    docker_bin: str | None,
    backend: str | None = None,
) -> BuildRequest:
    from unkey_deploy.image.backends import requested
    from unkey_deploy.image.build import BuildRequest

    args: dict[str, str] = {}
    for item in build_args:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--build-arg {item!r} is not KEY=VALUE")
        if name == "UNKEY_SECRETS_ID":
            raise UsageError("--build-arg UNKEY_SECRETS_ID is set by unkey from the build variables; drop it")
        args[name] = value
    common: dict[str, Any] = {
        "context": plan.context_dir, "tag": ref, "variables": variables, "platform": platform, "build_args": args,
        "cache_from": tuple(cache_from), "cache_to": tuple(cache_to), "builder": builder, "docker_bin": docker_bin,
        "backend": requested(backend, *_project_config_source(plan)),
    }  # fmt: skip
    if not plan.generated:
        return BuildRequest(dockerfile=plan.dockerfile_path, **common)
    from unkey_deploy.dockerfile import render

    rendered = render(plan)
    return BuildRequest(dockerfile_text=rendered.dockerfile, dockerignore_text=rendered.dockerignore, **common)


def _project_config_source(plan: Plan) -> tuple[dict[str, Any], str]:
    config, path = _project_config(plan)
    return config, str(path or "unkey.yaml")


def _project_config(plan: Plan) -> tuple[dict[str, Any], Path | None]:
    from unkey_deploy.config import load_project_config

    for directory in dict.fromkeys([plan.app_dir, plan.root or plan.app_dir]):
        config, path = load_project_config(directory)
        if path is not None:
            return config, path
    return {}, None


@dataclass
class Guarded:
    """A deployment followed to its end, verified and, on failure, rolled back (see `follow_guarded`)."""

    deployment_id: str
    outcome: Outcome | None = None  # None when waiting timed out
    error: UnkeyError | None = None  # why the command fails, if it does
    verification: Verification | None = None
    recovery: Recovery | None = None


def follow_guarded(
    api: DeploymentsAPI,
    deployment_id: str,
    target: Target,
    reporter: Reporter,
    started: float,
    *,
    checks: CheckSettings | None = None,
    guard: RollbackGuard | None = None,
) -> Guarded:
    """Follow a created deployment; once READY run the checks; on failure (FAILED, timeout, checks) put the
    previous deployment back when `guard` says so."""
    from unkey_deploy.errors import DeployTimeout

    guarded = Guarded(deployment_id)
    try:
        guarded.outcome = follow(api, deployment_id, target, reporter, started)
    except DeployTimeout as exc:
        guarded.error = exc
    outcome = guarded.outcome
    if outcome is not None and not outcome.ready:
        guarded.error = DeploymentFailed(failure_message(outcome))
    elif outcome is not None and checks is not None:
        from unkey_deploy.verify import deployment_url, verify

        api.client.set_deadline(checks.timeout + 30)  # the checks' own time, whatever --timeout left
        if checks.wants_health_path:
            checks = _with_health_path(api.client, deployment_id, checks, reporter)
        base = deployment_url(outcome.state.hostnames, target.environment)
        if base is None:
            guarded.error = UnkeyError(f"deployment {deployment_id} is ready but has no domain to verify; "
                                       "drop --check or check it by hand")  # fmt: skip
        else:
            guarded.verification = verify(base, checks, reporter)
            if not guarded.verification.ok:
                guarded.error = guarded.verification.failure(deployment_id)
    if guarded.error is not None and guard is not None:
        reporter.info(f"Rolling back: {deployment_id} did not pass; looking at what serves {guard.where}")
        guarded.recovery = guard.recover(deployment_id, guarded.error.message, still_running=outcome is None)
    return guarded


def _with_health_path(client: Client, deployment_id: str, checks: CheckSettings, reporter: Reporter) -> CheckSettings:
    """`--check auto` without `check:` in unkey.yaml: add the environment's health check path, else `/`."""
    from dataclasses import replace

    from unkey_deploy.api.deployments import PublicDeployments
    from unkey_deploy.verify import normalise_path

    path: Any = None
    try:
        raw = PublicDeployments(client).describe(deployment_id).raw
    except UnkeyError as exc:
        reporter.warn(f"cannot read the environment's health check ({exc.message}); checking /")
        raw = None
    if raw is not None:
        runtime = raw.get("runtime")
        health = runtime.get("healthcheck") if isinstance(runtime, dict) else None
        path = health.get("path") if isinstance(health, dict) else None
        if not isinstance(path, str) or not path.startswith("/"):
            reporter.info("The environment has no health check path; checking /")
    if not isinstance(path, str) or not path.startswith("/"):
        path = "/"
    paths = tuple(dict.fromkeys([*checks.paths, normalise_path(path, "health check path")]))
    return replace(checks, paths=paths, wants_health_path=False)
