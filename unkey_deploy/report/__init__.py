"""Reporters: how progress and results look (terminal, plain, JSON, GitHub Actions).

Stages never print; they hand events to a reporter.
"""

from __future__ import annotations

import os
import sys


def color_enabled(stream: object = None) -> bool:
    stream = stream or sys.stderr
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def style_error(message: str) -> str:
    prefix = "\x1b[31merror:\x1b[0m" if color_enabled(sys.stderr) else "error:"
    return f"{prefix} {message}"
