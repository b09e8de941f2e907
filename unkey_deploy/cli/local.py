"""`unkey local`: run and inspect the local control plane (Unkey's API on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli.options import Output

local_app = typer.Typer(
    name="local",
    help="A local control plane that speaks Unkey's API, so deploys work without an Unkey account.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey local serve      # http://127.0.0.1:7070, runtime docker when an engine answers\n"
    "  unkey local serve --runtime simulate --port 0 --allow-any-key\n"
    "  unkey local ps\n"
    "  unkey local down",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@local_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(7070, help="Port to listen on; 0 picks a free one."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", envvar="UNKEY_LOCAL_DATA_DIR", help="Where state.db and root_key live [~/.unkey/local]."
    ),
    runtime: str = typer.Option(
        "auto", help="docker (run images on the local engine), simulate (run nothing), or auto."
    ),
    root_key: str | None = typer.Option(
        None, "--root-key", envvar="UNKEY_LOCAL_ROOT_KEY",
        help="The root key clients must send; by default one is generated and stored in the data dir.",
    ),
    allow_any_key: bool = typer.Option(False, "--allow-any-key", help="Accept any non-empty root key."),
    health_timeout: float = typer.Option(
        60.0, "--health-timeout", help="docker: seconds a container gets to answer HTTP before it fails."
    ),
    step_delay: float = typer.Option(0.3, "--step-delay", help="simulate: seconds spent in each status."),
    ready_after: str | None = typer.Option(
        None, "--ready-after",
        help="simulate: seconds from creation to READY, fixed (5) or random in a range (2-20); "
        "overrides --step-delay.",
    ),
    steps: str = typer.Option(
        "deploying,network", "--steps",
        help="simulate: statuses walked between PENDING and READY, comma separated; STATUS=SECONDS gives "
        "one a fixed time (network=0.5); 'none' jumps straight to READY.",
    ),
    fail_images: str = typer.Option(
        "*fail*", "--fail-images", help="simulate: images matching this glob end FAILED ('' for none)."
    ),
    projects: str | None = typer.Option(
        None, "--projects",
        help="Only these projects exist (comma separated); others get 404. By default projects are "
        "created on first use.",
    ),
    debug_timestamps: bool = typer.Option(
        False, "--debug-timestamps",
        help="Add readyAt (ms) to getDeployment responses, for latency benchmarks (not in Unkey's API).",
    ),
    request_timeout: float = typer.Option(
        10.0, "--request-timeout",
        help="Seconds a client gets to send a whole request; idle connections are closed after as long.",
    ),
    max_connections: int = typer.Option(
        64, "--max-connections", help="Connections served at once; one more is answered 503."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every request."),
) -> None:
    """Serve Unkey's API (deploy, deployments, keys, identities) on 127.0.0.1, state in SQLite.

    The first line printed on stdout is the URL; a generated root key is printed on the second when stdout is
    a terminal (it is always in <data dir>/root_key, mode 0600). One server per data dir: a second one is
    refused. SIGTERM or Ctrl-C stop it.

    Examples:

    \b
      unkey local serve
      unkey local serve --runtime simulate --port 0 --ready-after 2-20 --steps none
      UNKEY_LOCAL_URL=http://127.0.0.1:7070 unkey deploy IMAGE --project acme --local
    """
    from unkey_deploy.local.serve import options_from_flags
    from unkey_deploy.local.serve import serve as run_server

    run_server(options_from_flags(
        data_dir=data_dir, host=host, port=port, runtime=runtime, root_key=root_key, allow_any_key=allow_any_key,
        health_timeout=health_timeout, step_delay=step_delay, ready_after=ready_after, steps=steps,
        fail_images=fail_images, projects=projects, debug_timestamps=debug_timestamps,
        request_timeout=request_timeout, max_connections=max_connections, verbose=verbose,
    ))


@local_app.command("ps")
def ps(
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", envvar="UNKEY_LOCAL_DATA_DIR", help="The server's data dir [~/.unkey/local]."
    ),
    every: bool = typer.Option(False, "--all", help="Every data dir's containers, not only this one's."),
) -> None:
    """List the containers the local control plane of a data dir runs (`--all`: every data dir's).

    Examples:

    \b
      unkey local ps
      unkey local ps --output json
      unkey local ps --all
    """
    from dataclasses import asdict

    from unkey_deploy.local.docker_runtime import engine, local_containers

    fmt = common.parse_output(output)
    containers = local_containers(engine(), None if every else _owner(data_dir))
    if fmt is Output.json:
        common.print_json([asdict(c) for c in containers])
        return
    if not containers:
        print("no local deployments are running as containers")
        return
    rows = [["DEPLOYMENT", "PROJECT/APP/ENV", "STATE", "URL"]]
    rows += [[c.deployment_id, f"{c.project}/{c.app}/{c.environment}", c.state, c.url or "-"] for c in containers]
    print("\n".join(common.columns(rows)))


@local_app.command("down")
def down(
    deployment: str | None = typer.Option(None, "--deployment", help="Remove only this deployment's container."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", envvar="UNKEY_LOCAL_DATA_DIR", help="The server's data dir [~/.unkey/local]."
    ),
    every: bool = typer.Option(False, "--all", help="Every data dir's containers, not only this one's."),
) -> None:
    """Stop and remove the containers the local control plane of a data dir started (`--all`: every data
    dir's). The state in SQLite stays.

    Examples:

    \b
      unkey local down
      unkey local down --deployment d_abc123
      unkey local down --all
    """
    from unkey_deploy.local.docker_runtime import engine, remove_containers

    # A deployment ID names one container whichever server started it.
    removed = remove_containers(engine(), deployment, None if every or deployment else _owner(data_dir))
    print(f"removed {removed} container{'s' if removed != 1 else ''}")


@local_app.command("stop")
def stop(
    data_dir: Path | None = typer.Option(
        None, "--data-dir", envvar="UNKEY_LOCAL_DATA_DIR", help="The server's data dir [~/.unkey/local]."
    ),
) -> None:
    """Stop the local control plane running from a data dir (e.g. the one `--local` started).

    Only the process holding the data dir's lock, running `unkey local serve`, is signalled. Its state
    stays in SQLite, and the containers keep running until `unkey local down`.

    Examples:

    \b
      unkey local stop
      unkey local stop && unkey local down
    """
    from unkey_deploy.local.endpoint import default_data_dir, stop_server

    directory = (data_dir or default_data_dir()).expanduser()
    pid = stop_server(directory)
    print(f"stopped the local control plane (pid {pid})" if pid else f"no local control plane runs from {directory}")


def register(app: typer.Typer) -> None:
    app.add_typer(local_app)


def _owner(data_dir: Path | None) -> str:
    from unkey_deploy.local.docker_runtime import owner_label
    from unkey_deploy.local.endpoint import default_data_dir

    return owner_label(data_dir or default_data_dir())
