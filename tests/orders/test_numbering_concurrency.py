"""Gapless, unique numbers under concurrency (design rule 5), over real RPC.

200 orders are created at once while 40 open orders are checked out: 240 creators in flight,
served by two OrdersService containers (this package's and one more) that share the RPC queue
as two replicas would, with 32 workers between them — so reference and invoice numbers are
drawn by 32 transactions at the same time. (Each transaction holds a database connection;
more would exceed what the shared test server gives. bench/intake.py drives 64 HTTP clients.)
Invoice numbers must be gapless and unique (legal records); references come from a
PostgreSQL sequence: unique and increasing, and gapless here since no creation rolls back.
The per-status counts, kept in shards, must still add up to the orders there are.
"""

from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select

from orders.models import Order, OrderCount
from orders.service import OrdersService

CONCURRENT_CREATES = 200
CONCURRENT_SUBMITS = 40
CONCURRENT_TRANSACTIONS = 32  # workers over both replicas, each with its own database connection


def test_numbers_stay_unique_and_gapless_under_concurrency(
    orders_container, container_factory, service_config, order_data, orders_db
):
    second_replica = container_factory(
        OrdersService, {**service_config, "max_workers": CONCURRENT_TRANSACTIONS - orders_container.max_workers}
    )
    second_replica.start()

    with ClusterRpcProxy(service_config, timeout=60) as cluster:
        orders = cluster.orders
        orders.update_numbering({"invoice_numbers_enabled": True})
        open_orders = [
            orders.create_order(order_data(submit=False, session_id=f"sess-{n}"))["order"]
            for n in range(CONCURRENT_SUBMITS)
        ]
        total_before = orders.list_orders({})["total"]

        creating = [orders.create_order.call_async(order_data()) for _ in range(CONCURRENT_CREATES)]
        submitting = [
            orders.submit_order.call_async(order["reference"], {"session_id": f"sess-{n}"})
            for n, order in enumerate(open_orders)
        ]
        created = [reply.result()["order"] for reply in creating]
        submitted = [reply.result() for reply in submitting]

        prefix = orders.get_numbering()["invoice_prefix"]
        total_after = orders.list_orders({})["total"]

    references = sorted(int(order["reference"]) for order in created)
    assert references == list(range(references[0], references[0] + CONCURRENT_CREATES))

    invoices = sorted(int(order["invoice_number"][len(prefix) :]) for order in created + submitted)
    assert invoices == list(range(invoices[0], invoices[0] + CONCURRENT_CREATES + CONCURRENT_SUBMITS))

    assert total_after == total_before + CONCURRENT_CREATES
    with orders_db.read_session() as session:
        real = dict(session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
        counted = dict(
            session.execute(select(OrderCount.status, func.sum(OrderCount.count)).group_by(OrderCount.status)).all()
        )
    assert {status: n for status, n in counted.items() if n} == real
