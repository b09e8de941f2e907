"""Times as the API carries them: Unix milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_ms(text: str) -> int:
    """An ISO-8601 time (UTC when it has no offset) as Unix milliseconds; ValueError when `text` is not one."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
