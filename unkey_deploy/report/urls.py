"""Domains as the URLs reports show: the summary, `--output json`, CI outputs and the checks' base URL."""

from __future__ import annotations

from collections.abc import Iterable


def url_for(hostname: str) -> str:
    """Domains as URLs: https://, but http:// for localhost hostnames."""
    if "://" in hostname:
        return hostname
    host = hostname.split(":", 1)[0]
    local = host in ("localhost", "127.0.0.1", "[::1]") or host.endswith(".localhost")
    return f"{'http' if local else 'https'}://{hostname}"


def environment_url(hostnames: Iterable[str], environment: str) -> str:
    """The URL of the environment domain (the sticky one that follows the environment's latest deployment).

    Unkey names it `<project>-<app>-<environment>-<workspace>`; commit and deployment domains carry
    `-git-` or `-dep-`. Falls back to the first domain that is not one of those, then to the first domain.
    """
    names = [str(h) for h in hostnames]
    sticky = [h for h in names if "-git-" not in h and "-dep-" not in h]
    marker = f"-{environment}"
    for hostname in sticky:
        label = hostname.split(".", 1)[0]
        if f"{marker}-" in label or label.endswith(marker):
            return url_for(hostname)
    chosen = (sticky or names or [""])[0]
    return url_for(chosen) if chosen else ""
