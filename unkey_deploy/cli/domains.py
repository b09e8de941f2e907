"""`unkey domains`: attach custom domains to an environment, show the DNS records to create, check them,
and remove domains (`domains.*`)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import UnkeyError

domains_app = typer.Typer(
    name="domains",
    help="Custom domains of an environment: list, add (prints the DNS records to create), verify, remove.\n\n"
    "\b\n"
    "Examples:\n"
    "  unkey domains add api.acme.dev --project acme --app api --env production\n"
    "  unkey domains verify api.acme.dev\n"
    "  unkey domains list --project acme --app api --env production",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DomainArgument = Annotated[
    str, typer.Argument(metavar="DOMAIN", show_default=False, help="Host name, e.g. api.acme.dev.")
]
FLAGS = {"project": "--project", "app": "--app", "environment": "--env", "domain": "DOMAIN", "limit": "--limit",
         "cursor": "--cursor", "search": "--search"}


@common.api_command
def list_domains(
    project: common.ProjectOption = None,
    app_: common.AppOption = "default",
    env: common.EnvOption = "production",
    paging: common.Paging = common.Paging(),
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    body = {"project": common.require_project(project), "app": app_, "environment": env}
    found = common.list_items(access, "domains.listDomains", body, FLAGS, paging, what="domains")
    common.print_list(fmt, found, empty=f"No domains on {body['project']}/{app_}/{env}. "
                      "Add one with `unkey domains add DOMAIN`.",
                      header=["DOMAIN", "STATUS", "CREATED", "ID"],
                      row=lambda d: [str(d.get("domain", "")), str(d.get("status", "")),
                                     common.when(d.get("createdAt")), str(d.get("id", ""))])


@common.api_command
def add_domain(
    domain: DomainArgument,
    project: common.ProjectOption = None,
    app_: common.AppOption = "default",
    env: common.EnvOption = "production",
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.platform import PlatformAPI

    body = {"project": common.require_project(project), "app": app_, "environment": env, "domain": domain}
    common.check_flags("domains.createDomain", body, FLAGS)
    with access.client() as client:
        created = PlatformAPI(client).object("domains.createDomain", body, idempotent=False)
    if fmt is Output.json:
        common.print_json(created)
        return
    print(f"Added {common.printable(domain)} to {body['project']}/{app_}/{env} "
          f"({common.printable(created.get('domainId', ''))})")
    records = [r for r in created.get("dnsRecords") or [] if isinstance(r, dict)]
    if records:
        print("\nCreate these DNS records at your DNS provider:")
        print(_records_table(records))
        for note in dict.fromkeys(str(r["note"]) for r in records if r.get("note")):
            print(f"  {common.printable(note)}")
    connect = created.get("domainConnect")
    if isinstance(connect, dict) and connect.get("url"):
        print(f"\nOr let {common.printable(connect.get('provider', 'your provider'))} create them: "
              f"{common.printable(connect['url'])}")
    print(f"\nThen run `unkey domains verify {domain}`.")


def _records_table(records: list[dict[str, Any]]) -> str:
    rows = [[str(r.get("type", "")), str(r.get("name", "")), str(r.get("value", "")), str(r.get("ttl", "")),
             "yes" if r.get("verified") else "no"] for r in records]
    return common.table(["TYPE", "NAME", "VALUE", "TTL", "VERIFIED"], rows)


@common.api_command
def get_domain(
    domain: DomainArgument,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    found = common.fetch_object(access, "domains.getDomain", common.check_flags("domains.getDomain",
                                                                                {"domain": domain}, FLAGS))
    if fmt is Output.json:
        common.print_json(found)
        return
    _print_domain(found)


def _print_domain(found: dict[str, Any]) -> None:
    print(common.fields([
        ("Domain", found.get("domain")), ("Status", found.get("status")), ("ID", found.get("id")),
        ("Environment ID", found.get("environmentId")), ("Error", found.get("verificationError")),
        ("Created", common.when(found.get("createdAt"))),
    ]))
    records = [r for r in found.get("dnsRecords") or [] if isinstance(r, dict)]
    if records:
        print("\nDNS records:")
        print(_records_table(records))


@common.api_command
def verify_domain(
    domain: DomainArgument,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.platform import PlatformAPI

    common.check_flags("domains.verifyDomain", {"domain": domain}, FLAGS)
    with access.client() as client:
        platform = PlatformAPI(client)
        platform.call("domains.verifyDomain", {"domain": domain})
        found = platform.object("domains.getDomain", {"domain": domain})
    status = str(found.get("status", ""))
    if fmt is Output.json:
        common.print_json(found)
    elif status == "verified":
        print(f"{common.printable(domain)} is verified")
    else:
        human = sys.stdout
        missing = [r for r in found.get("dnsRecords") or [] if isinstance(r, dict) and not r.get("verified")]
        print(f"{common.printable(domain)} is {common.printable(status or 'not verified')}", file=human)
        if found.get("verificationError"):
            print(f"  {common.printable(found['verificationError'])}", file=human)
        if missing:
            print("Still missing:", file=human)
            print(_records_table(missing), file=human)
    if status == "failed" or (status == "pending" and fmt is Output.text):
        raise UnkeyError(f"{domain} is not verified yet: create the DNS records above, wait for them to "
                         "propagate, then run this again")


@common.api_command
def remove_domain(
    domain: DomainArgument,
    yes: common.YesOption = False,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    body = common.check_flags("domains.deleteDomain", {"domain": domain}, FLAGS)
    common.delete(access, "domains.deleteDomain", body, yes=yes, what=f"removing {domain}",
                  question=f"Remove {domain}? It stops routing to its environment.",
                  fmt=fmt, result={"domain": domain, "removed": True}, done=f"Removed {domain}")


def register(app: typer.Typer) -> None:
    common.add_commands(app, domains_app, [
        ("list", "List the custom domains of an environment.", list_domains),
        ("add", "Attach a custom domain to an environment and print the DNS records to create.", add_domain),
        ("get", "Show a domain, its status and DNS records.", get_domain),
        ("verify",
         "Check a domain's DNS records now and say what is still missing (exit 1 until it is verified).",
         verify_domain),
        ("remove", "Detach a domain, after asking (pass --yes without a terminal).", remove_domain),
    ])
