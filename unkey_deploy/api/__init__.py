"""The Unkey API client: transport, retries and the error envelope, one module per resource."""

from unkey_deploy.api._client import Client, Response

__all__ = ["Client", "Response"]
