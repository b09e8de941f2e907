"""The Unkey API client: transport, retries and the error envelope, one module per resource.

`Client` and `Response` load httpx on first use, so importing a resource's schemas stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client, Response

__all__ = ["Client", "Response"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from unkey_deploy.api import client as _client_module

        return getattr(_client_module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
