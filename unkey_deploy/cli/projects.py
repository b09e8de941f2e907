"""`unkey projects`: list, show, create and delete projects (`projects.*`)."""

from __future__ import annotations

from typing import Annotated

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli.options import Output

projects_app = typer.Typer(
    name="projects",
    help="List, show, create and delete projects.\n\n"
    "\b\n"
    "Examples:\n"
    "  unkey projects create --slug acme --name 'Acme Inc'\n"
    "  unkey projects list --all\n"
    "  unkey projects delete acme --yes",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SlugArgument = Annotated[str, typer.Argument(metavar="SLUG", show_default=False, help="Project slug or ID.")]
LIST_FLAGS = {"limit": "--limit", "cursor": "--cursor", "search": "--search"}


@common.api_command
def list_projects(
    paging: common.Paging = common.Paging(),
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    found = common.list_items(access, "projects.listProjects", {}, LIST_FLAGS, paging, what="projects")
    common.print_list(fmt, found, empty="No projects. Create one with `unkey projects create --slug SLUG`.",
                      header=["SLUG", "NAME", "ID", "CREATED"],
                      row=lambda p: [str(p.get("slug", "")), str(p.get("name", "")), str(p.get("id", "")),
                                     common.when(p.get("createdAt"))])


@common.api_command
def get_project(
    slug: SlugArgument,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    body = common.check_flags("projects.getProject", {"project": slug}, {"project": "SLUG"})
    project = common.fetch_object(access, "projects.getProject", body)
    common.print_result(fmt, project, common.fields([
        ("Slug", project.get("slug")), ("Name", project.get("name")), ("ID", project.get("id")),
        ("Created", common.when(project.get("createdAt"))),
        ("Delete protection", "on" if project.get("deleteProtection") else "off"),
    ]))


@common.api_command
def create_project(
    slug: Annotated[str, typer.Option("--slug", metavar="SLUG", show_default=False,
                                      help="The project's slug: letters, digits, '_' and '-'.")],
    name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="Display name [default: SLUG].")] = None,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.platform import PlatformAPI

    shown_name = name if name is not None else slug
    common.check_flags("projects.createProject", {"name": shown_name, "slug": slug},
                       {"name": "--name", "slug": "--slug"})
    with access.client() as client:
        project_id = PlatformAPI(client).create_project(shown_name, slug)
    common.print_result(fmt, {"id": project_id, "slug": slug, "name": shown_name},
                        f"Created project {common.printable(slug)} ({common.printable(project_id)})")


@common.api_command
def delete_project(
    slug: SlugArgument,
    yes: common.YesOption = False,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    body = common.check_flags("projects.deleteProject", {"project": slug}, {"project": "SLUG"})
    common.delete(access, "projects.deleteProject", body, yes=yes, what=f"deleting project {slug}",
                  question=f"Delete project {slug} with all its apps, environments, deployments and domains?",
                  fmt=fmt, result={"project": slug, "deleted": True},
                  done=f"Deleting project {slug}: the platform removes its resources in the background")


def register(app: typer.Typer) -> None:
    common.add_commands(app, projects_app, [
        ("list",
         "List projects: slug, name, ID and creation time. One page (100) unless --all; --cursor continues "
         "where a previous page ended.",
         list_projects),
        ("get", "Show a project.", get_project),
        ("create",
         "Create a project.\n\n\b\nExample:\n  unkey projects create --slug acme --name 'Acme Inc'",
         create_project),
        ("delete",
         "Delete a project and everything in it, after asking (pass --yes without a terminal).",
         delete_project),
    ])
