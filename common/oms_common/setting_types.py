"""What a setting's text may be, and the typed value it becomes.

Every kind turns the text an operator wrote (an environment variable, through config.yml) into
one Python value or refuses it with a message an operator can act on; nothing is guessed.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A setting holds a value its service cannot work with; the service does not start."""


@dataclass(frozen=True)
class Kind:
    """A parser from text to a value, with the words the settings table shows for it."""

    name: str
    parse: Callable[[str], Any]
    minimum: float | None = None
    choices: tuple[str, ...] = field(default=())

    def value(self, text: str) -> Any:
        if self.choices:
            chosen = [option for option in self.choices if option.lower() == text.strip().lower()]
            if not chosen:
                raise ValueError(f"is one of {', '.join(self.choices)}")
            text = chosen[0]
        value = self.parse(text)
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"is at least {self.minimum:g}")
        return value


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("is a whole number") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("is a number") from None


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("is true or false")


def _time_zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is an IANA time zone such as Europe/Zurich") from None
    return text


def _address(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("is host:port")
    return text


def text() -> Kind:
    return Kind("text", str)


def secret() -> Kind:
    return Kind("secret", str)


def whole(minimum: int | None = None) -> Kind:
    return Kind("whole number", _whole_number, minimum)


def seconds(minimum: float | None = 0) -> Kind:
    return Kind("seconds", _number, minimum)


def flag() -> Kind:
    return Kind("true/false", _flag)


def choice(*choices: str) -> Kind:
    return Kind("choice", str, choices=choices)


def time_zone() -> Kind:
    return Kind("time zone", _time_zone)


def address() -> Kind:
    return Kind("host:port", _address)


def _delays(text: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ValueError("is a comma list of seconds") from None
    if not delays or min(delays) <= 0:
        raise ValueError("is a comma list of seconds, each above 0")
    return delays


def delays() -> Kind:
    return Kind("seconds, comma list", _delays)
