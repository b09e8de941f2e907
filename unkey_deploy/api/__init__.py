"""The Unkey API client: transport, retries and the error envelope, one module per resource.

`Client` and `Response` load httpx on first use, so importing a resource's schemas stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unkey_deploy.api._client import Client, Response

__all__ = ["Client", "Response"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from unkey_deploy.api import _client

        return getattr(_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
