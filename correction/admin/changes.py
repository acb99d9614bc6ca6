"""What a write changed, as the audit trail records it: the changed fields before and after."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..time import iso_z


@dataclass
class Change:
    """A written row and the audit details of the write."""

    row: Any
    details: dict[str, Any] = field(default_factory=dict)


def snapshot(row, fields: tuple[str, ...]) -> dict[str, Any]:
    """Return ``fields`` of ``row`` as JSON values (times in ISO 8601 UTC)."""
    return {name: _json(getattr(row, name)) for name in fields}


def difference(before: dict[str, Any], after: dict[str, Any], **extra) -> dict[str, Any]:
    """Return {"before", "after"} of the fields whose values differ, and ``extra``.

    A created row has no before: every field is in "after" alone.
    """
    changed = [name for name in after if name not in before or before[name] != after[name]]
    return {"before": {name: before[name] for name in changed if name in before},
            "after": {name: after[name] for name in changed}, **extra}


def _json(value):
    return iso_z(value) if isinstance(value, datetime) else value
