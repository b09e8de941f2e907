"""`unkey apps`: list, show, create and delete the apps of a project (`apps.*`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli.options import Output

apps_app = typer.Typer(
    name="apps",
    help="List, show, create and delete the apps of a project.\n\n"
    "\b\n"
    "Examples:\n"
    "  unkey apps create --project acme --slug api --repository acme/api --default-branch main\n"
    "  unkey apps list --project acme\n"
    "  unkey apps delete api --project acme --yes",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SlugArgument = Annotated[str, typer.Argument(metavar="SLUG", show_default=False, help="App slug or ID.")]
FLAGS = {"project": "--project", "app": "SLUG", "slug": "--slug", "name": "--name", "git": "--repository",
         "limit": "--limit", "cursor": "--cursor", "search": "--search"}


@common.api_command
def list_apps(
    project: common.ProjectOption = None,
    paging: common.Paging = common.Paging(),
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    project_slug = common.require_project(project)
    found = common.list_items(access, "apps.listApps", {"project": project_slug}, FLAGS, paging, what="apps")
    common.print_list(fmt, found, empty=f"No apps in project {common.printable(project_slug)}. "
                      "Create one with `unkey apps create --slug SLUG`.",
                      header=["SLUG", "NAME", "REPOSITORY", "CURRENT DEPLOYMENT", "ID"],
                      row=lambda a: [str(a.get("slug", "")), str(a.get("name", "")), _repository(a),
                                     str(a.get("currentDeploymentId") or "-"), str(a.get("id", ""))])


def _repository(app: dict[str, Any]) -> str:
    git = app.get("git")
    if not isinstance(git, dict) or not git.get("repository"):
        return "-"
    branch = git.get("defaultBranch")
    return f"{git['repository']}@{branch}" if branch else str(git["repository"])


@common.api_command
def get_app(
    slug: SlugArgument,
    project: common.ProjectOption = None,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    body = common.check_flags("apps.getApp", {"project": common.require_project(project), "app": slug}, FLAGS)
    found = common.fetch_object(access, "apps.getApp", body)
    common.print_result(fmt, found, common.fields([
        ("Slug", found.get("slug")), ("Name", found.get("name")), ("ID", found.get("id")),
        ("Repository", _repository(found)), ("Current deployment", found.get("currentDeploymentId") or "-"),
        ("Rolled back", "yes" if found.get("isRolledBack") else "no"),
        ("Created", common.when(found.get("createdAt"))),
    ]))


@common.api_command
def create_app(
    slug: Annotated[str, typer.Option("--slug", metavar="SLUG", show_default=False,
                                      help="The app's slug: letters, digits, '_' and '-'.")],
    project: common.ProjectOption = None,
    name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="Display name [default: SLUG].")] = None,
    repository: Annotated[str | None, typer.Option(
        "--repository", metavar="OWNER/NAME", help="Connect this GitHub repository (the platform builds it).")] = None,
    default_branch: Annotated[str | None, typer.Option(
        "--default-branch", metavar="BRANCH", help="The repository's production branch (with --repository).")] = None,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.platform import PlatformAPI
    from unkey_deploy.errors import UsageError

    if default_branch is not None and repository is None:
        raise UsageError("--default-branch needs --repository OWNER/NAME")
    shown_name = name if name is not None else slug
    body: dict[str, Any] = {"project": common.require_project(project), "name": shown_name, "slug": slug}
    if repository is not None:
        body["git"] = {"repository": repository,
                       **({"defaultBranch": default_branch} if default_branch is not None else {})}
    common.check_flags("apps.createApp", body, FLAGS)
    with access.client() as client:
        app_id = PlatformAPI(client).create_app(body["project"], shown_name, slug, repository=repository,
                                                default_branch=default_branch)
    if fmt is Output.json:
        common.print_json({"id": app_id, "project": body["project"], "slug": slug, "name": shown_name,
                           **({"git": body["git"]} if "git" in body else {})})
        return
    print(f"Created app {common.printable(body['project'])}/{common.printable(slug)} ({common.printable(app_id)}) "
          "with environments production and preview")
    if repository:
        print(f"Connected repository {repository}: `unkey deploy --git` deploys what the platform builds from it")


@common.api_command
def delete_app(
    slug: SlugArgument,
    project: common.ProjectOption = None,
    yes: common.YesOption = False,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    body = common.check_flags("apps.deleteApp", {"project": common.require_project(project), "app": slug}, FLAGS)
    where = f"{body['project']}/{slug}"
    common.delete(access, "apps.deleteApp", body, yes=yes, what=f"deleting app {where}",
                  question=f"Delete app {where} with its environments, deployments and domains?",
                  fmt=fmt, result={"project": body["project"], "app": slug, "deleted": True},
                  done=f"Deleting app {where}: the platform removes its resources in the background")


def register(app: typer.Typer) -> None:
    common.add_commands(app, apps_app, [
        ("list",
         "List the apps of a project. One page (100) unless --all; --cursor continues where a previous page "
         "ended.",
         list_apps),
        ("get", "Show an app.", get_app),
        ("create",
         "Create an app (with its production and preview environments), optionally connected to a GitHub "
         "repository the platform builds.\n\n"
         "\b\nExamples:\n"
         "  unkey apps create --project acme --slug api\n"
         "  unkey apps create --project acme --slug web --repository acme/web --default-branch main",
         create_app),
        ("delete", "Delete an app and everything in it, after asking (pass --yes without a terminal).", delete_app),
    ])
