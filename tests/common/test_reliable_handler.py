"""oms_common machinery against the real broker and database: retrying/parking event
handlers, the outbox relay run by several replicas at once, and idempotent claims."""

import socket
import time
import uuid
from collections import Counter

import eventlet
import pytest
from amqp.exceptions import ChannelError
from kombu import Connection, Exchange, Queue
from nameko.standalone.events import event_dispatcher
from sqlalchemy import MetaData, text

from oms_common.db import SessionSource, ensure_schema, make_engine
from oms_common.events import DEFAULT_RETRY_DELAYS, parked_messages, reliable_event_handler, replay_parked
from oms_common.outbox import BATCH_SIZE, backlog, relay_once
from oms_common.settings import database_url as resolve_database_url
from oms_common.tables import install_infrastructure

QUEUE = "evt-flaky_source-thing_happened--flaky_consumer.handle"


class Ledger:
    """What the test service saw, per event id."""

    attempts = Counter()
    applied = []
    released = set()  # ids whose handler stops failing


class FlakyService:
    name = "flaky_consumer"

    @reliable_event_handler("flaky_source", "thing_happened")
    def handle(self, payload):
        event_id = payload["id"]
        Ledger.attempts[event_id] += 1
        if Ledger.attempts[event_id] <= payload["fail_times"] and event_id not in Ledger.released:
            raise RuntimeError(f"not yet ({Ledger.attempts[event_id]})")
        Ledger.applied.append(event_id)


@pytest.fixture
def flaky(container_factory, service_config, request):
    # a test may configure the delays as an environment variable would: "0.2,0.5"
    config = {**service_config, **getattr(request, "param", {})}
    container = container_factory(FlakyService, config)
    container.start()
    dispatch = event_dispatcher(service_config)

    def send(fail_times):
        event_id = uuid.uuid4().hex
        dispatch("flaky_source", "thing_happened", {"id": event_id, "fail_times": fail_times})
        return event_id

    return send


def parked_bodies(amqp_uri):
    return [message["body"] for message in parked_messages(amqp_uri, QUEUE)]


def queue_exists(amqp_uri, queue_name):
    with Connection(amqp_uri) as connection:
        try:
            connection.default_channel.queue_declare(queue_name, passive=True)
        except ChannelError:  # 404 NOT_FOUND
            return False
        return True


def queue_depth(amqp_uri, queue_name):
    with Connection(amqp_uri) as connection:
        return connection.default_channel.queue_declare(queue_name, passive=True).message_count


def test_failing_handler_is_retried_with_the_configured_delays_and_applied_once(flaky, service_config, wait_until):
    event_id = flaky(fail_times=2)

    wait_until(lambda: event_id in Ledger.applied, message="the third attempt to succeed")

    assert Ledger.attempts[event_id] == 3
    assert Ledger.applied.count(event_id) == 1
    # EVENT_RETRY_DELAYS is [0.2, 0.5]: the two retries waited in the delay queues of exactly
    # those delays (a queue per delay, its TTL the delay); the built-in default's first
    # delay (1 s) was never used
    amqp_uri = service_config["AMQP_URI"]
    assert not queue_exists(amqp_uri, f"{QUEUE}.retry.{int(DEFAULT_RETRY_DELAYS[0] * 1000)}")
    # nothing left that could apply it again: no pending retry, nothing parked
    assert [queue_depth(amqp_uri, f"{QUEUE}.retry.{ms}") for ms in (200, 500)] == [0, 0]
    assert not [body for body in parked_bodies(amqp_uri) if event_id in body]


@pytest.mark.parametrize("flaky", [{"EVENT_RETRY_DELAYS": "0.2, 0.5"}], indirect=True, ids=["delays-as-text"])
def test_handler_that_keeps_failing_is_parked_and_replay_brings_it_back(flaky, service_config, wait_until):
    amqp_uri = service_config["AMQP_URI"]
    event_ids = [flaky(fail_times=1000), flaky(fail_times=1000)]

    def parked():
        return [m for m in parked_messages(amqp_uri, QUEUE) if any(e in m["body"] for e in event_ids)]

    wait_until(lambda: len(parked()) == 2, message="both messages in the parked queue")
    for message in parked():  # peeking leaves them parked
        assert message["headers"]["x-oms-attempt"] == 3  # first try and the two configured retries
        assert "RuntimeError: not yet (3)" in message["headers"]["x-oms-error"]
    assert [Ledger.attempts[e] for e in event_ids] == [3, 3]
    assert not set(event_ids) & set(Ledger.applied)

    Ledger.released.update(event_ids)  # the operator fixed the cause
    assert replay_parked(amqp_uri, QUEUE) == 2

    wait_until(lambda: set(event_ids) <= set(Ledger.applied), message="the replayed messages to be handled")
    assert [Ledger.attempts[e] for e in event_ids] == [4, 4]
    assert parked() == []


# ---------------------------------------------------------------- outbox relay


@pytest.fixture
def outbox_source(database_url):
    """A throw-away service schema with only the outbox tables."""
    service_name = f"relay_test_{uuid.uuid4().hex[:8]}"
    metadata = MetaData()
    infrastructure = install_infrastructure(metadata)
    engine = make_engine(resolve_database_url(database_url, service_name), schema=service_name, pool_size=5)
    ensure_schema(engine, service_name)
    metadata.create_all(engine)
    yield service_name, SessionSource(engine, infrastructure)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{service_name}" CASCADE'))
    engine.dispose()


def emit_events(source, count, per_transaction=150):
    ids = []
    for start in range(0, count, per_transaction):
        with source.unit_of_work() as uow:
            for n in range(start, min(count, start + per_transaction)):
                ids.append(uow.emit("thing_happened", {"n": n})["event_id"])
            uow.commit()
    return ids


def collect(connection, queue_name, expected, timeout=10):
    """Every message body of the queue, until ``expected`` arrived and the queue stays quiet."""
    received = []
    consumer = connection.Consumer(
        [Queue(queue_name, no_declare=True)],
        accept=["json"],
        callbacks=[lambda body, message: (received.append(body), message.ack())],
    )
    deadline = time.monotonic() + timeout
    with consumer:
        while time.monotonic() < deadline:
            try:
                connection.drain_events(timeout=0.3)
            except socket.timeout:
                if len(received) >= expected:
                    break
    return received


def test_concurrent_relays_publish_each_outbox_row_exactly_once(outbox_source, session_amqp_uri):
    service_name, source = outbox_source
    event_count = 3 * BATCH_SIZE + 50
    ids = emit_events(source, event_count)
    queue_name = f"tap-{service_name}"
    with Connection(session_amqp_uri) as connection:
        exchange = Exchange(f"{service_name}.events", type="topic", durable=True)
        Queue(queue_name, exchange=exchange, routing_key="#", auto_delete=True)(connection.default_channel).declare()

        relays = [eventlet.spawn(relay_once, source, session_amqp_uri, service_name) for _ in range(2)]
        published = [relay.wait() for relay in relays]
        received = collect(connection, queue_name, event_count)

    assert sum(published) == event_count
    assert all(published), "both relays should have taken a share of the work"
    assert Counter(body["event_id"] for body in received) == Counter({event_id: 1 for event_id in ids})
    assert all(body["event_type"] == "thing_happened" for body in received)
    with source.engine.connect() as connection:
        assert backlog(connection, source.infrastructure.outbox) == 0


def test_relay_with_nothing_to_do_publishes_nothing(outbox_source, session_amqp_uri):
    service_name, source = outbox_source
    assert relay_once(source, session_amqp_uri, service_name) == 0


# ---------------------------------------------------------------- unit of work


def test_claimed_event_id_is_refused_the_second_time_and_a_rollback_forgets_it(outbox_source):
    _, source = outbox_source
    with source.unit_of_work() as uow:
        assert uow.claim_event("evt-1", "consumer-a") is True
        assert uow.claim_event("evt-1", "consumer-a") is False
        assert uow.claim_event("evt-1", "consumer-b") is True  # another consumer has its own claim
        uow.commit()
    with source.unit_of_work() as uow:
        assert uow.claim_event("evt-1", "consumer-a") is False
        assert uow.claim_event("evt-2", "consumer-a") is True
        # no commit: the effect and the claim roll back together
    with source.unit_of_work() as uow:
        assert uow.claim_event("evt-2", "consumer-a") is True


def test_events_of_a_rolled_back_unit_of_work_never_reach_the_outbox(outbox_source):
    _, source = outbox_source
    with source.unit_of_work() as uow:
        uow.emit("thing_happened", {"n": 1})
    with source.engine.connect() as connection:
        assert backlog(connection, source.infrastructure.outbox) == 0
