"""One exception hierarchy; each error carries its exit code and a one-line message with its fix.

Only the CLI entry point turns these into output and an exit status.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TypedDict, Unpack


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # the deployment failed, or the API refused the request
    USAGE = 2
    AUTH = 3  # authentication or permission
    BUILD = 4
    PUSH = 5
    TIMEOUT = 6
    VERIFICATION = 7  # the deployment is ready but its checks (--check) did not pass
    HANGUP = 129  # SIGHUP (the terminal went away)
    INTERRUPTED = 130  # Ctrl-C (SIGINT)
    TERMINATED = 143  # SIGTERM


EXIT_CODES_HELP = (
    "Exit codes: 0 ready; 1 deployment failed or API refused the request; 2 usage error; "
    "3 authentication or permission; 4 build failed; 5 push failed; 6 timed out; 7 verification failed "
    "(--check); 130 interrupted (Ctrl-C); 143 and 129 stopped by SIGTERM and SIGHUP."
)


class UnkeyError(Exception):
    """Base error: `message` is one line saying what is wrong and how to fix it."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class UsageError(UnkeyError):
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    pass


class APIError(UnkeyError):
    """The API answered with an error envelope (or could not be reached at all)."""

    exit_code = ExitCode.FAILED

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        error_type: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.request_id = request_id
        self.error_type = error_type


class APIErrorFields(TypedDict, total=False):
    """The keyword arguments of APIError, for subclasses that pass them on."""

    status: int | None
    request_id: str | None
    error_type: str | None
    details: list[str] | None


class AuthError(APIError):
    exit_code = ExitCode.AUTH


class NotFoundError(APIError):
    pass


class RouteGoneError(APIError):
    """The endpoint itself no longer exists (410, or a 404 whose type says the route is unknown)."""


class TransientError(APIError):
    """Connection errors, timeouts, 429 and 5xx: worth retrying."""

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: Unpack[APIErrorFields]) -> None:
        super().__init__(message, **fields)
        self.retry_after = retry_after


class DeploymentFailed(UnkeyError):
    exit_code = ExitCode.FAILED


class BuildError(UnkeyError):
    exit_code = ExitCode.BUILD


class PushError(UnkeyError):
    exit_code = ExitCode.PUSH


class DeployTimeout(UnkeyError):
    exit_code = ExitCode.TIMEOUT


class DeadlineExceeded(DeployTimeout):
    """An API call could not finish before the command's --timeout (hanging server, long Retry-After).

    `not_sent` is true when the request provably never reached the server."""

    def __init__(self, message: str, *, operation: str = "", not_sent: bool = False) -> None:
        super().__init__(message)
        self.operation = operation
        self.not_sent = not_sent


class VerificationFailed(UnkeyError):
    """The deployment became ready but did not answer its checks as expected."""

    exit_code = ExitCode.VERIFICATION


class Interrupted(UnkeyError):
    exit_code = ExitCode.INTERRUPTED


class AppNotDetected(UsageError):
    """No ecosystem matched the source tree (and there is no Dockerfile)."""
