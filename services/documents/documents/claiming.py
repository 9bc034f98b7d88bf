"""What every handler of another service's event starts with: the event loaded by its schema and
claimed in the unit of work it is handled in, so that a redelivered event changes nothing."""

import functools

from oms_common.problems import load

from .storing import CONSUMER


def once_per_event(schema):
    """Decorates ``handle(uow, event, *args)``: called as ``handler(source, event, *args)``, it
    loads the event with ``schema``, opens a unit of work on ``source`` and claims the event's id
    there; ``handle`` runs (and commits) only the first time, a redelivery answers None."""

    def decorate(handle):
        @functools.wraps(handle)
        def handler(source, event, *args):
            event = load(schema(), event)
            with source.unit_of_work() as uow:
                if not uow.claim_event(event["event_id"], CONSUMER):
                    return None
                return handle(uow, event, *args)

        return handler

    return decorate
