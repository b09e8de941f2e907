"""Identity operations: identities.updateIdentity.

A field left out of the body keeps its stored value; `{}` clears the metadata and `[]` removes
every rate limit, so empty containers are sent as they are.
"""

from __future__ import annotations

from typing import Any

from unkey_deploy.api.client import Client, Response
from unkey_deploy.api.schemas import require_valid


def update_identity_body(identity: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The identities.updateIdentity body: `identity` plus exactly the fields in `changes`."""
    return require_valid("identities.updateIdentity", {"identity": identity, **changes})


def update_identity(client: Client, body: dict[str, Any]) -> Response:
    """Send a body from `update_identity_body`: it replaces what it names, so retrying is safe."""
    return client.call("identities.updateIdentity", require_valid("identities.updateIdentity", body))
