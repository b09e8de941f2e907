"""Strings from a server are data: one function per place they are shown, used by every print site.

- `text`: one line of terminal or log text. Control characters (C0, DEL, C1, line and paragraph
  separators, bidirectional overrides) are shown as visible escapes (`\\x1b`, `\\n`), so an ESC, OSC, CR
  or BS from a server can neither colour, move, rewrite nor retitle the terminal, and a newline never
  breaks a line.
  Long values are cut with a note. A value that would start a GitHub Actions workflow command (`::`)
  is shown quoted, so no line of output can be read as one.
- `command_data` and `command_property`: the message and the properties of a workflow command.
- `markdown`: text inside a Markdown table cell of the job summary: ASCII punctuation becomes HTML
  entities, so no link, autolink, image, emphasis, HTML or table syntax survives.
- `markdown_link`: a link only to a plain http(s) URL, otherwise the text alone.
- `json_text`: JSON for a terminal: like json.dumps, with the control characters JSON leaves raw escaped.
- `lines`: a bounded list of such lines (250,000 steps are not printed whole).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

MAX_TEXT = 2000  # characters of one server string shown on a line
MAX_LINES = 200  # lines of one list (steps, validation errors) shown
MAX_LINE = 4 * MAX_TEXT  # characters of one printed line, which may hold a (cut) server string and our words

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": " "}
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_PLAIN = frozenset(" /,;?%")  # ASCII punctuation with no meaning in Markdown (autolinks need `:` or `www.`)
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?\Z")


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def truncated(value: str, limit: int) -> str:
    """`value` cut to `limit` characters, with a note saying how long it was."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… [truncated, {len(value):,} characters in all]"


def text(value: Any, limit: int = MAX_TEXT, *, shield: bool = True) -> str:
    """One line of terminal text showing `value` (see the module docstring). `shield=False` leaves a leading
    `::` alone, for lines printed where GitHub Actions reads no commands (`::stop-commands::`)."""
    raw = value if isinstance(value, str) else str(value)
    cut = raw[:limit]
    shown = _CONTROL.sub(_visible, cut)
    if len(raw) > limit:
        shown += f"… [truncated, {len(raw):,} characters in all]"
    if shield and shown.lstrip().startswith("::"):
        shown = json.dumps(shown, ensure_ascii=False)
    return shown


def lines(values: Iterable[Any], limit: int = MAX_LINES, what: str = "lines") -> list[str]:
    """Each value as `text`, at most `limit` of them, then a note with how many were left out."""
    out: list[str] = []
    left_out = 0
    for value in values:
        if len(out) < limit:
            out.append(text(value))
        else:
            left_out += 1
    if left_out:
        out.append(f"… {left_out:,} more {what} not shown")
    return out


def command_data(value: Any) -> str:
    """The message of a workflow command (`::error::MESSAGE`): %, CR and LF escaped as GitHub specifies."""
    raw = value if isinstance(value, str) else str(value)
    raw = _CONTROL.sub(lambda m: m.group(0) if m.group(0) in "\r\n" else _visible(m), truncated(raw, MAX_TEXT))
    return raw.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(value: Any) -> str:
    """A property of a workflow command (`title=...`): also `:` and `,`."""
    return command_data(value).replace(":", "%3A").replace(",", "%2C")


def markdown(value: Any, limit: int = MAX_TEXT) -> str:
    """Text for a Markdown table cell: no syntax survives, no line breaks, never empty."""
    shown = _CONTROL.sub(_visible, truncated(value if isinstance(value, str) else str(value), limit))
    out = "".join(f"&#{ord(c)};" if c.isascii() and not c.isalnum() and c not in _PLAIN else c for c in shown)
    return out.strip() or " "


def markdown_link(label: Any, url: str) -> str:
    """A Markdown link when `url` is a plain http(s) URL (host, port, path), else the label as text."""
    if _URL.match(url):
        return f"[{markdown(label)}]({url})"
    return markdown(label)


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """JSON for a terminal: json.dumps escapes C0 controls; DEL, C1 and bidi marks are escaped here too."""
    dumped = json.dumps(value, indent=indent, ensure_ascii=False)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)
