"""`unkey local`: a control plane speaking Unkey's API on 127.0.0.1, with SQLite and docker/simulate runtimes.

Callers outside this package use `ensure_running()`; the server itself lives in `serve`.
"""

from unkey_deploy.local.endpoint import LocalEndpoint, ensure_running

__all__ = ["LocalEndpoint", "ensure_running"]
