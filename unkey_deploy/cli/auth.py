"""`unkey auth` commands: store, show and remove the root key in the config file."""

from __future__ import annotations

import os
import sys

import typer

from unkey_deploy.cli.options import ConfigPath as ConfigOption
from unkey_deploy.cli.options import RootKey as RootKeyOption
from unkey_deploy.errors import AuthError, UsageError

auth_app = typer.Typer(
    name="auth",
    help="Store, show or remove the root key that `unkey api` and `unkey deploy` use.\n\n"
    "The key is looked up in this order: --root-key, UNKEY_ROOT_KEY, root_key in ~/.unkey/config.toml.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey auth login\n"
    '  echo "$UNKEY_ROOT_KEY" | unkey auth login\n'
    "  unkey auth status\n"
    "  unkey auth logout",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.add_typer(auth_app)


@auth_app.command(
    "login",
    help="Store a root key in the config file (created with mode 0600), keeping its other settings.\n\n"
    "On a terminal the key is read with hidden input; otherwise one line is read from stdin.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey auth login\n"
    '  echo "$UNKEY_ROOT_KEY" | unkey auth login\n'
    "  unkey auth login --config=./ci-config.toml < key.txt",
)
def login(config: ConfigOption = None) -> None:
    from unkey_deploy.config import write_root_key

    key = _read_root_key()
    path = write_root_key(key, config)
    print(f"Authentication successful. Key stored in {path}")


@auth_app.command(
    "status",
    help="Show which root key would be used and where it comes from (flag, environment or file).\n\n"
    "Only the key's prefix and last four characters are shown. Exits with 3 when there is no key.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey auth status\n"
    "  UNKEY_CONFIG=./ci-config.toml unkey auth status",
)
def status(root_key: RootKeyOption = None, config: ConfigOption = None) -> None:
    from unkey_deploy.config import default_config_path, mask_key, resolve_root_key

    credentials = resolve_root_key(root_key, config, required=False)
    path = os.path.expanduser(config) if config else default_config_path()
    if credentials is None:
        raise AuthError(f"not logged in: no --root-key, no UNKEY_ROOT_KEY and no root_key in {path}; "
                        "run `unkey auth login`")
    if credentials.source == "flag":
        source = "the --root-key flag"
    elif credentials.source == "env":
        source = "the UNKEY_ROOT_KEY environment variable"
    else:
        source = credentials.source.removeprefix("file:")
    print(f"Logged in with root key {mask_key(credentials.root_key)} from {source}")


@auth_app.command(
    "logout",
    help="Remove the stored root key from the config file, keeping its other settings.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey auth logout\n"
    "  unkey auth logout --config=./ci-config.toml",
)
def logout(config: ConfigOption = None) -> None:
    from unkey_deploy.config import default_config_path, remove_root_key

    shown = os.path.expanduser(config) if config else default_config_path()
    if remove_root_key(shown):
        print(f"Root key removed from {shown}")
    else:
        print(f"No root key stored in {shown}")
    if os.environ.get("UNKEY_ROOT_KEY"):
        print("warning: UNKEY_ROOT_KEY is still set in this environment; unset it too", file=sys.stderr)


def _read_root_key() -> str:
    """The key from a hidden prompt on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        import getpass

        try:
            key = getpass.getpass("Enter your root key: ")
        except EOFError:
            key = ""
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key:
        raise UsageError('no root key given: paste it at the prompt, or pipe it: echo "$KEY" | unkey auth login')
    if any(char.isspace() for char in key):
        raise UsageError("the root key contains whitespace: paste only the key (it looks like unkey_...)")
    return key
