"""The columns every audit row shares: when, who, what kind of actor, through which way in."""

from collections.abc import Mapping
from typing import Any

from .db import utcnow


def audit_columns(actor: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor": actor["name"],
        "actor_kind": actor["kind"],
        "origin": actor.get("origin") or "internal",
    }
