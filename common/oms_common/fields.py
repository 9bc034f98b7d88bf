"""Marshmallow building blocks every service's wire schemas share."""

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_OR_LINE_BREAK = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# bidi overrides/isolates reorder what staff read ("Rechnung\u202efdp.exe"); zero-width characters make
# two names look alike: neither belongs in a name or a text
INVISIBLE_FORMATTING = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


class StrictSchema(Schema):
    """Unknown fields are an error, named like any other."""

    class Meta:
        unknown = RAISE


def no_invisible_formatting(value: str) -> None:
    if INVISIBLE_FORMATTING.search(value):
        raise ValidationError("Bidirectional override and zero-width characters are not allowed.")


def no_control(value: str) -> None:
    if CONTROL.search(value):
        raise ValidationError("Control characters are not allowed.")
    no_invisible_formatting(value)


def single_line(value: str) -> None:
    # names and addresses end up in e-mail headers and XML attributes: no line breaks there
    if CONTROL_OR_LINE_BREAK.search(value):
        raise ValidationError("Line breaks and control characters are not allowed.")
    no_invisible_formatting(value)


def text(max_length: int, required: bool = True, multiline: bool = False, **kwargs: Any) -> fields.String:
    """A string of bounded length without control characters (and without line breaks unless multiline)."""
    return fields.String(
        required=required,
        validate=[validate.Length(min=1 if required else 0, max=max_length), no_control if multiline else single_line],
        **kwargs,
    )


class UtcDateTime(fields.AwareDateTime):
    """An aware date-time, normalised to UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            raise ValidationError("Out of range once converted to UTC.") from None
