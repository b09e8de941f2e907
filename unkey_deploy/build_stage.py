"""Build preparation and the build: (source → plan → image → pushed image), what `--build` runs first.

`prepare_build` decides everything before anything runs (plan, build variables, image name, push, registry
auth) from the build flags and the project's unkey.yaml (a `ProjectConfig` read once by the command);
`run_build` builds and pushes, and hands the pushed image to the deploy stage (`pipeline`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unkey_deploy.errors import Interrupted, UnkeyError, UsageError
from unkey_deploy.report import Reporter
from unkey_deploy.source import Source

if TYPE_CHECKING:
    from unkey_deploy.config import ProjectConfig
    from unkey_deploy.image.build import BuildRequest, BuiltImage
    from unkey_deploy.image.push import PushedImage, RegistryAuth
    from unkey_deploy.image.secrets import BuildVariables
    from unkey_deploy.plan import Plan


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


def prepare_build(settings: BuildSettings, source: Source, project: ProjectConfig | None = None) -> PreparedBuild:
    """Everything decided before the build runs: plan, variables (names checked), image name, push, auth.

    `project` is the unkey.yaml the command read; without it the app's, else the repository root's is read."""
    from unkey_deploy.config import ProjectConfig, project_directories
    from unkey_deploy.image.push import RegistryAuth, registry_of
    from unkey_deploy.imageref import parse_image
    from unkey_deploy.plan import make_plan

    if project is None:
        project = ProjectConfig.find(project_directories(settings.context, settings.root_dir))
    plan = make_plan(settings.context, root_dir=settings.root_dir, dockerfile=settings.dockerfile, project=project)
    variables = collect_variables(project, list(settings.env_files), list(settings.var_flags))
    ref, push = _image_for_build(settings, plan, source, project)
    request = build_request(plan, ref, variables, settings.platform, list(settings.build_args),
                            list(settings.cache_from), list(settings.cache_to), settings.builder,
                            settings.docker_bin, settings.builder_backend, project)  # fmt: skip
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


def _image_for_build(settings: BuildSettings, plan: Plan, source: Source, project: ProjectConfig) -> tuple[str, bool]:
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
    repository = project.image_repository
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


def collect_variables(project: ProjectConfig, env_files: list[Path], var_flags: list[str]) -> BuildVariables:
    """unkey.yaml `variables:` < --env-file < --var; a bad name fails here, before anything runs."""
    from unkey_deploy.image.secrets import BuildVariables, parse_config_variables

    layer = parse_config_variables(project.variables, project.source) if project.path else {}
    return BuildVariables.collect(config=layer, env_files=env_files, var_flags=var_flags)


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
    project: ProjectConfig | None = None,
) -> BuildRequest:
    """What the image builder gets: context, Dockerfile (the app's, or rendered from the plan), build args
    (KEY=VALUE), variables, cache, builder and backend (`backend`, else UNKEY_BUILDER_BACKEND, else
    `build.backend` of `project`)."""
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
        "backend": requested(backend, project.data if project else None, project.source if project else "unkey.yaml"),
    }  # fmt: skip
    if not plan.generated:
        return BuildRequest(dockerfile=plan.dockerfile_path, **common)
    from unkey_deploy.dockerfile import render

    rendered = render(plan)
    return BuildRequest(dockerfile_text=rendered.dockerfile, dockerignore_text=rendered.dockerignore, **common)
