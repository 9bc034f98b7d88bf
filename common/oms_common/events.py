"""Event handlers that never drop an event silently.

nameko acks a message whose handler raised. ``reliable_event_handler`` instead sends the
message to a delay queue (TTL + dead-lettering back to the handler's own queue) with
growing delays, and after the last retry moves it to ``<queue>.parked``, where an operator
sees it and can replay it (``replay_parked``). Redeliveries are harmless because handlers
claim the ``event_id`` in their unit of work.
"""

import logging
from types import TracebackType
from typing import Any

from kombu import Connection, Exchange, Queue
from kombu.message import Message
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.containers import WorkerContext
from nameko.events import SERVICE_POOL, EventHandler

from .settings import setting

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-oms-attempt"
ERROR_HEADER = "x-oms-error"
DEFAULT_RETRY_DELAYS = (1, 5, 30, 120, 600)  # OMS_EVENT_RETRY_DELAYS (settings.toml)
_default_exchange = Exchange("", type="direct")
# what nameko hands over for a worker that raised (``sys.exc_info()``)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def retry_queue(queue_name: str, delay_ms: int) -> Queue:
    return Queue(
        f"{queue_name}.retry.{delay_ms}",
        exchange=_default_exchange,
        routing_key=f"{queue_name}.retry.{delay_ms}",
        durable=True,
        queue_arguments={
            "x-message-ttl": delay_ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue_name,
        },
    )


def parked_queue(queue_name: str) -> Queue:
    return Queue(f"{queue_name}.parked", exchange=_default_exchange, routing_key=f"{queue_name}.parked", durable=True)


class ReliableEventHandler(EventHandler):
    def __init__(self, source_service: str, event_type: str, **kwargs: Any) -> None:
        kwargs.setdefault("handler_type", SERVICE_POOL)
        super().__init__(source_service, event_type, reliable_delivery=True, requeue_on_error=False, **kwargs)

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return setting(self.container.config, "EVENT_RETRY_DELAYS", self.container.service_name)

    def handle_result(
        self, message: Message, worker_ctx: WorkerContext, result: Any = None, exc_info: ExcInfo | None = None
    ) -> tuple[Any, ExcInfo | None]:
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        try:
            self._reroute(message, exc_info)
        except Exception:  # noqa: BLE001 - could not reroute: let the broker redeliver it
            log.exception("could not schedule a retry; returning the message to its queue")
            self.queue_consumer.requeue_message(message)
        else:
            self.queue_consumer.ack_message(message)
        return result, exc_info

    def _reroute(self, message: Message, exc_info: ExcInfo) -> None:
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 0)) + 1
        headers[ATTEMPT_HEADER] = attempt
        headers[ERROR_HEADER] = f"{exc_info[0].__name__}: {exc_info[1]}"[:1000]
        delays = self.retry_delays
        queue_name = self.queue.name
        if attempt <= len(delays):
            target = retry_queue(queue_name, int(delays[attempt - 1] * 1000))
            log.warning(
                "handler %s failed (attempt %s), retrying in %ss: %s",
                queue_name,
                attempt,
                delays[attempt - 1],
                headers[ERROR_HEADER],
            )
        else:
            target = parked_queue(queue_name)
            log.error("handler %s failed %s times, parked: %s", queue_name, attempt, headers[ERROR_HEADER])
        amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]
        with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
            producer = connection.Producer()
            producer.publish(
                message.body,
                exchange=_default_exchange,
                routing_key=target.routing_key,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
                declare=[target],
                retry=True,
            )


reliable_event_handler = ReliableEventHandler.decorator


def parked_messages(amqp_uri: str, queue_name: str, limit: int = 100) -> list[dict[str, Any]]:
    """Peek at parked messages (left in the queue) for operators."""
    found = []
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        queue = parked_queue(queue_name)(channel)
        queue.declare()
        messages = []
        for _ in range(limit):
            message = queue.get(no_ack=False)
            if message is None:
                break
            messages.append(message)
            body = message.body  # bytes or, once kombu has decoded it, already str
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            found.append({"headers": dict(message.headers or {}), "body": body})
        for message in messages:
            message.requeue()
    return found


def replay_parked(amqp_uri: str, queue_name: str) -> int:
    """Moves every parked message back to the handler's queue; returns how many."""
    moved = 0
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        queue = parked_queue(queue_name)(channel)
        queue.declare()
        # only what is parked now: a handler that still fails parks its messages again,
        # and with short retry delays an open-ended loop would never end
        parked_now = queue.queue_declare(passive=True).message_count
        producer = connection.Producer()
        while moved < parked_now:
            message = queue.get(no_ack=False)
            if message is None:
                return moved
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-oms-")}
            producer.publish(
                message.body,
                exchange=_default_exchange,
                routing_key=queue_name,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
            )
            message.ack()
            moved += 1
        return moved
