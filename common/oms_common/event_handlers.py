"""A reliable event handler per event type of a list, for a service that handles them all alike."""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .events import reliable_event_handler

ServiceClass = TypeVar("ServiceClass", bound=type)
Handle = Callable[[Any, str, dict[str, Any]], None]


def handles_each(source: str, event_types: Iterable[str], handle: Handle) -> Callable[[ServiceClass], ServiceClass]:
    """A decorator of a service class: it gets a method ``on_<event type>`` per type, each a
    ``@reliable_event_handler(source, <event type>)`` with its own queue (named after the method,
    as if written out), each calling ``handle(service, event_type, event)``."""

    def add_handlers(service_class: ServiceClass) -> ServiceClass:
        for event_type in event_types:
            setattr(service_class, f"on_{event_type}", _handler(source, event_type, handle))
        return service_class

    return add_handlers


def _handler(source: str, event_type: str, handle: Handle) -> Callable[[Any, dict[str, Any]], None]:
    @reliable_event_handler(source, event_type)
    def on_event(service: Any, event: dict[str, Any]) -> None:
        handle(service, event_type, event)

    on_event.__name__ = on_event.__qualname__ = f"on_{event_type}"
    return on_event
