"""Post-deploy verification: after READY, request each check path on the deployment's own URL until it
answers with an expected status or the time runs out.

READY only means the platform started the container. `unkey deploy --check /healthz` asks the release
itself: each attempt's status and latency are reported; when a path never answers as expected, the
command fails with exit code 7 and the last answer's status and first body lines (made printable and
bounded). Header values given with `--check-header` never appear in any output.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from unkey_deploy.errors import UsageError, VerificationFailed
from unkey_deploy.report import Reporter

DEFAULT_STATUS = "200-399"
AUTO = "auto"  # `--check auto`: unkey.yaml `check:`, else the environment's health check path, else /
BODY_LINES = 5
BODY_LINE_CHARS = 200
BODY_READ_BYTES = 16384
MASK = "***"
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class StatusRanges:
    """Accepted HTTP statuses, e.g. `200-399` or `200,204,301-302`."""

    ranges: tuple[tuple[int, int], ...]
    text: str

    def __contains__(self, status: object) -> bool:
        return isinstance(status, int) and any(low <= status <= high for low, high in self.ranges)


def parse_statuses(text: str) -> StatusRanges:
    ranges: list[tuple[int, int]] = []
    for part in (p.strip() for p in text.split(",")):
        low, sep, high = part.partition("-")
        try:
            lo = int(low)
            hi = int(high) if sep else lo
        except ValueError:
            lo, hi = 0, -1
        if not (100 <= lo <= hi <= 599):
            raise UsageError(
                f"--check-status {text!r} is not a status or range such as 200, 200-399 or 200,204 (100-599)"
            )
        ranges.append((lo, hi))
    return StatusRanges(tuple(ranges), text.strip())


def parse_header(text: str) -> tuple[str, str]:
    """`Name: value` → (name, value). The value is never echoed in the error."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not _HEADER_NAME.match(name):
        shown = name if _HEADER_NAME.match(name) else "(unreadable name)"
        raise UsageError(
            f"--check-header {shown}: expected 'Name: value', e.g. --check-header 'Authorization: Bearer …'"
        )
    return name, value.strip()


def normalise_path(path: str, where: str = "--check") -> str:
    text = str(path).strip()
    if not text.startswith("/") or any(c.isspace() or ord(c) < 32 for c in text):
        raise UsageError(f"{where} {text!r}: a check is a path on the deployment starting with /, e.g. /healthz")
    return text


@dataclass(frozen=True)
class CheckSettings:
    """What to check and how long to try."""

    paths: tuple[str, ...]
    statuses: StatusRanges = field(default_factory=lambda: parse_statuses(DEFAULT_STATUS))
    timeout: float = 60.0
    interval: float = 2.0
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    wants_health_path: bool = False  # `--check auto` with no configured paths: add the environment's one

    def mask(self, text: str) -> str:
        """`text` with every header value replaced (a server may echo a header back)."""
        secrets = {value for _, value in self.headers if value}
        secrets |= {word for secret in secrets for word in secret.split() if len(word) >= 6}  # `Bearer <token>`
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


def check_settings(
    paths: Sequence[str],
    *,
    status: str = DEFAULT_STATUS,
    timeout: float = 60.0,
    interval: float = 2.0,
    headers: Sequence[str] = (),
    configured: Sequence[str] = (),
) -> CheckSettings | None:
    """The checks to run: `--check` paths, where `auto` stands for unkey.yaml `check:`; without `--check`,
    unkey.yaml `check:`. None when nothing asks for verification. When `auto` finds no configured paths,
    `wants_health_path` is true and the environment's health check path is added once it is known."""
    given = [p for p in paths if p.strip() != AUTO]
    wants_auto = len(given) != len(paths)
    chosen = [normalise_path(p) for p in given]
    if wants_auto or not paths:
        chosen += [normalise_path(p, "unkey.yaml check:") for p in configured]
    if not chosen and not wants_auto:
        if headers:
            raise UsageError("--check-header needs --check PATH (or `check:` in unkey.yaml)")
        return None
    if timeout <= 0 or interval <= 0:
        raise UsageError("--check-timeout and --check-interval must be positive numbers of seconds")
    return CheckSettings(
        paths=tuple(dict.fromkeys(chosen)),
        statuses=parse_statuses(status),
        timeout=timeout,
        interval=interval,
        headers=tuple(parse_header(h) for h in headers),
        wants_health_path=wants_auto and not configured,
    )


def configured_checks(config: dict[str, Any], where: str) -> list[str]:
    """`check:` of unkey.yaml: a path or a list of paths."""
    raw = config.get("check")
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise UsageError(f"{where}: `check` must be a path or a list of paths, e.g. check: [/healthz]")
    return [normalise_path(i, f"{where}: check") for i in items]


@dataclass(frozen=True)
class Attempt:
    status: int | None  # None: no answer (connection refused, timeout)
    latency_ms: int
    error: str | None = None
    body: str = ""


@dataclass
class CheckResult:
    path: str
    url: str
    ok: bool = False
    attempts: list[Attempt] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else None
        return {
            "path": self.path,
            "url": self.url,
            "ok": self.ok,
            "attempts": len(self.attempts),
            "status": last.status if last else None,
            "latencyMs": last.latency_ms if last else None,
        }


@dataclass
class Verification:
    base_url: str
    statuses: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "url": self.base_url, "expected": self.statuses,
                "checks": [r.to_json() for r in self.results]}  # fmt: skip

    def failure(self, deployment_id: str) -> VerificationFailed:
        from unkey_deploy.report.safe import text as printable

        bad = next(r for r in self.results if not r.ok)
        last = bad.attempts[-1] if bad.attempts else Attempt(None, 0, "not tried")
        answered = f"answered {last.status}" if last.status is not None else f"did not answer ({last.error})"
        details = [f"{r.path}: {'ok' if r.ok else 'failed'} after {len(r.attempts)} attempt(s)" for r in self.results]
        if last.body:
            details.append("last response body (first lines):")
            details += [f"  {line}" for line in last.body.splitlines()]
        return VerificationFailed(
            f"verification failed: deployment {deployment_id} is ready but GET {printable(bad.url)} {answered} "
            f"(expected {self.statuses}) after {len(bad.attempts)} attempt(s); see `unkey logs {deployment_id}`",
            details=details,
        )


def deployment_url(hostnames: Iterable[str], environment: str) -> str | None:
    """The deployment's own URL (so the new release is what is checked), not the environment's shared one.

    Unkey names per-deployment domains with `-dep-` (and per-commit ones with `-git-`); otherwise the first
    hostname that is not the environment's domain, else the first one.
    """
    from unkey_deploy.report.urls import url_for

    names = [str(h) for h in hostnames if str(h)]
    for marker in ("-dep-", "-git-"):
        for name in names:
            if marker in name.split(".", 1)[0]:
                return url_for(name)
    suffix = f"-{environment}"
    own = [n for n in names if not (n.split(".", 1)[0].endswith(suffix) or f"{suffix}-" in n.split(".", 1)[0])]
    chosen = (own or names)[:1]
    return url_for(chosen[0]) if chosen else None


def verify(
    base_url: str,
    settings: CheckSettings,
    reporter: Reporter,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Verification:
    """Check every path in turn, each until it answers as expected; one deadline for them all."""
    import httpx

    from unkey_deploy.report.safe import text as printable

    verification = Verification(base_url.rstrip("/"), settings.statuses.text)
    deadline = clock() + settings.timeout
    headers = dict(settings.headers)
    reporter.info(f"Verifying {printable(verification.base_url)} (expecting {settings.statuses.text}, up to "
                  f"{settings.timeout:g}s)")  # fmt: skip
    with httpx.Client(follow_redirects=False, headers=headers) as client:
        for path in settings.paths:
            result = CheckResult(path, verification.base_url + path)
            verification.results.append(result)
            while True:
                remaining = deadline - clock()
                attempt = _attempt(client, result.url, max(0.5, min(10.0, remaining)), settings, printable)
                result.attempts.append(attempt)
                result.ok = attempt.status in settings.statuses
                what = str(attempt.status) if attempt.status is not None else f"no answer ({attempt.error})"
                mark = "✓" if result.ok else "✗"
                reporter.info(f"  {mark} GET {path} → {what} in {attempt.latency_ms} ms")
                if result.ok:
                    break
                remaining = deadline - clock()
                if remaining <= 0:
                    break
                sleep(min(settings.interval, remaining))
            if not result.ok:
                break
    return verification


def _attempt(client: Any, url: str, timeout: float, settings: CheckSettings,
             printable: Callable[..., str]) -> Attempt:  # fmt: skip
    import httpx

    started = time.monotonic()
    try:
        with client.stream("GET", url, timeout=timeout) as response:
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) >= BODY_READ_BYTES:
                    break
            latency = int((time.monotonic() - started) * 1000)
            return Attempt(response.status_code, latency, body=_body_excerpt(raw, settings))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # a malformed domain is a failed attempt
        latency = int((time.monotonic() - started) * 1000)
        reason = printable(settings.mask(str(exc) or type(exc).__name__), BODY_LINE_CHARS)
        return Attempt(None, latency, error=reason)


def _body_excerpt(raw: bytes, settings: CheckSettings) -> str:
    """The first lines of a response body, printable, bounded and with header values masked."""
    from unkey_deploy.report.safe import text

    body = settings.mask(raw.decode("utf-8", "replace"))
    lines = [line for line in body.splitlines() if line.strip()][:BODY_LINES]
    return "\n".join(text(line, BODY_LINE_CHARS) for line in lines)


def summary_markdown(verification: Verification | None, recovery: Any = None) -> str:
    """The job-summary section for the checks and a rollback (empty when there was neither)."""
    from unkey_deploy.report.safe import markdown as cell

    parts: list[str] = []
    if verification is not None:
        heading = "✅ Verification passed" if verification.ok else "❌ Verification failed"
        rows = [f"| {cell(r.path)} | {'✅' if r.ok else '❌'} | {cell(r.to_json()['status'] or 'no answer')} | "
                f"{len(r.attempts)} |" for r in verification.results]  # fmt: skip
        parts.append(f"#### {heading} (expected {cell(verification.statuses)})\n\n"
                     "| Path | Result | Last status | Attempts |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n")
    if recovery is not None:
        heading = "↩️ Rolled back" if recovery.rolled_back else "⚠️ Not rolled back"
        lines = [recovery.headline, *recovery.lines]
        parts.append(f"#### {heading}\n\n" + "\n".join(f"- {cell(line)}" for line in lines) + "\n\n")
    return "".join(parts)
