"""Each service's Prometheus endpoint: entrypoint calls, latency and failures, outbox backlog,
parked events and (notifications) the mail queue."""

import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.smtp import wait_for

from .conftest import SERVICES, held_outbox_event, order_body, published
from .test_cli import oms_json


def scrape(suite, service):
    response = requests.get(f"http://127.0.0.1:{suite.metrics_ports[service]}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def test_every_service_serves_its_metrics(ops_suite):
    for service in SERVICES:
        samples = scrape(ops_suite, service)
        assert value(samples, "oms_outbox_backlog", service=service) is not None, service
        # the health check pings every service over RPC: their `ping` entrypoint is counted
        if service != "gateway":
            wait_for(
                lambda: (
                    (
                        value(
                            scrape(ops_suite, service), "oms_entrypoint_calls_total", service=service, entrypoint="ping"
                        )
                        or 0
                    )
                    >= 1
                ),
                timeout=10,
                message=f"{service} ping counted",
            )


def test_calls_latency_and_failures_are_counted_per_entrypoint(ops_suite):
    before = scrape(ops_suite, "orders")
    calls_before = value(before, "oms_entrypoint_calls_total", service="orders", entrypoint="create_order") or 0
    failures_before = (
        value(before, "oms_entrypoint_failures_total", service="orders", entrypoint="get_order", expected="true") or 0
    )

    assert ops_suite.post("/api/v1/orders", json=order_body()).status_code == 201
    assert ops_suite.get("/api/v1/orders/999999999").status_code == 404

    # a worker's metrics are recorded just after its reply is sent: look until the failure shows
    def counted():
        samples = scrape(ops_suite, "orders")
        failures = (
            value(samples, "oms_entrypoint_failures_total", service="orders", entrypoint="get_order", expected="true")
            or 0
        )
        return samples if failures > failures_before else None

    after = wait_for(counted, timeout=10, interval=0.1, message="the expected failure counted")
    assert value(after, "oms_entrypoint_calls_total", service="orders", entrypoint="create_order") == calls_before + 1
    assert (
        value(after, "oms_entrypoint_failures_total", service="orders", entrypoint="get_order", expected="true")
        == failures_before + 1
    )
    count = value(after, "oms_entrypoint_latency_seconds_count", service="orders", entrypoint="create_order")
    total = value(after, "oms_entrypoint_latency_seconds_sum", service="orders", entrypoint="create_order")
    assert count == calls_before + 1 and total > 0
    gateway = scrape(ops_suite, "gateway")
    assert (value(gateway, "oms_entrypoint_calls_total", service="gateway", entrypoint="api") or 0) >= 2


def test_state_gauges_outbox_parked_and_mail_queue(ops_suite):
    exports = scrape(ops_suite, "exports")
    parked = {labels: v for (name, labels), v in exports.items() if name == "oms_parked_events"}
    assert parked, "the exports handlers' parked queues are reported"
    assert all(dict(labels)["queue"].startswith("evt-") for labels in parked)

    sent_before = (
        value(scrape(ops_suite, "notifications"), "oms_mail_queue", service="notifications", status="sent") or 0
    )
    reference = ops_suite.post(
        "/api/v1/orders", json=order_body(email=f"metrics-{uuid.uuid4().hex[:8]}@example.com")
    ).json()["reference"]
    assert reference

    def mail_sent():  # this order's confirmation counted: the gauge grows from what it was
        samples = scrape(ops_suite, "notifications")
        return (value(samples, "oms_mail_queue", service="notifications", status="sent") or 0) > sent_before and samples

    samples = wait_for(mail_sent, timeout=30, interval=0.5, message="a sent mail in the mail-queue gauge")
    assert any(name == "oms_mail_queue" for name, _ in samples)
    wait_for(
        lambda: value(scrape(ops_suite, "orders"), "oms_outbox_backlog", service="orders") == 0,
        timeout=20,
        message="the orders outbox drained in the gauge",
    )


def test_outbox_backlog_gauge_counts_an_unpublished_event_then_drains(ops_suite):
    """An event the relay cannot take yet (its row locked here, as if another relay had it in
    flight) shows as backlog 1 in the gauge and in `oms backlog`; released, it is published."""
    with held_outbox_event(ops_suite.env) as event_id:
        # held: the relay skips the locked row, the gauge still counts it
        assert value(scrape(ops_suite, "orders"), "oms_outbox_backlog", service="orders") >= 1
        assert oms_json(ops_suite, "backlog")["outbox"]["orders"] >= 1
    wait_for(
        lambda: value(scrape(ops_suite, "orders"), "oms_outbox_backlog", service="orders") == 0,
        timeout=20,
        message="the released event published",
    )
    assert published(ops_suite.env, event_id)


def test_parked_gauge_counts_a_parked_event_then_zero_when_cleared(ops_suite):
    from kombu import Connection

    queue = next(
        dict(labels)["queue"]
        for (name, labels), _v in scrape(ops_suite, "exports").items()
        if name == "oms_parked_events"
    )
    from oms_common.events import parked_queue

    with Connection(ops_suite.env["OMS_AMQP_URI"]) as broker:
        # as the reliable handler parks a message after its last retry
        broker.Producer().publish(
            {"event_id": uuid.uuid4().hex},
            exchange="",
            routing_key=queue + ".parked",
            serializer="json",
            declare=[parked_queue(queue)],
        )
        try:
            wait_for(
                lambda: value(scrape(ops_suite, "exports"), "oms_parked_events", service="exports", queue=queue) == 1,
                timeout=20,
                message="the parked event in the gauge",
            )
            assert oms_json(ops_suite, "backlog")["parked_total"] >= 1
        finally:
            broker.default_channel.queue_purge(queue + ".parked")
    wait_for(
        lambda: value(scrape(ops_suite, "exports"), "oms_parked_events", service="exports", queue=queue) == 0,
        timeout=20,
        message="the gauge back at zero",
    )
