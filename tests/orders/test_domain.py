"""Unit tests of the order's rules (services/orders/orders/domain.py): no I/O at all."""

from types import SimpleNamespace

import pytest

from oms_contracts.values import PAYMENT_STATUSES
from orders import domain
from orders.domain import CustomerRefused, HoldRefused, IllegalTransition, SessionMismatch

# Every legal move with an operation allowed to make it.
LEGAL = [
    ("open", "new", "submit"),
    ("open", "payment_pending", "submit"),
    ("open", "cancelled", "status"),
    ("payment_pending", "new", "payment"),
    ("payment_pending", "new", "complete"),
    ("payment_pending", "cancelled", "status"),
    ("new", "in_progress", "status"),
    ("new", "shipped", "status"),
    ("new", "completed", "status"),
    ("new", "cancelled", "status"),
    ("new", "dunning_1", "status"),
    ("in_progress", "new", "status"),
    ("in_progress", "shipped", "status"),
    ("in_progress", "completed", "status"),
    ("in_progress", "cancelled", "status"),
    ("in_progress", "dunning_1", "status"),
    ("shipped", "completed", "status"),
    ("shipped", "dunning_1", "status"),
    ("dunning_1", "dunning_2", "status"),
    ("dunning_1", "in_progress", "status"),
    ("dunning_1", "shipped", "status"),
    ("dunning_1", "completed", "status"),
    ("dunning_1", "cancelled", "status"),
    ("dunning_2", "in_progress", "status"),
    ("dunning_2", "shipped", "status"),
    ("dunning_2", "completed", "status"),
    ("dunning_2", "cancelled", "status"),
]

ILLEGAL = [
    ("completed", "new", "status"),  # final
    ("completed", "cancelled", "status"),  # final
    ("cancelled", "new", "status"),  # final
    ("cancelled", "in_progress", "status"),  # final
    ("shipped", "new", "status"),
    ("shipped", "cancelled", "status"),  # goods are gone: refund, not cancel
    ("new", "dunning_2", "status"),  # dunning 2 only after dunning 1
    ("new", "new", "status"),
    ("payment_pending", "shipped", "status"),  # not paid yet
    ("dunning_2", "dunning_1", "status"),
    ("new", "archived", "status"),  # unknown status
    ("unknown", "new", "status"),  # unknown current status
    # leaving open/payment_pending needs its own operation, not a plain status change
    ("open", "new", "status"),
    ("open", "payment_pending", "status"),
    ("payment_pending", "new", "status"),
    ("payment_pending", "new", "submit"),
]


def test_the_legal_table_covers_every_transition_of_the_domain():
    declared = {(current, target) for current, targets in domain.TRANSITIONS.items() for target in targets}
    assert {(current, target) for current, target, _ in LEGAL} == declared


@pytest.mark.parametrize("current,target,through", LEGAL)
def test_legal_transition_is_accepted(current, target, through):
    domain.check_transition(current, target, through=through)


@pytest.mark.parametrize("current,target,through", ILLEGAL)
def test_illegal_transition_is_refused(current, target, through):
    with pytest.raises(IllegalTransition) as refused:
        domain.check_transition(current, target, through=through)
    assert (refused.value.current, refused.value.target) == (current, target)
    assert f"'{current}'" in str(refused.value)


@pytest.mark.parametrize("target", sorted(domain.RESERVED_TARGETS))
def test_reserved_target_is_never_reached_by_a_plain_status_change(target):
    for current in domain.ORDER_STATUSES:
        for other in ("status", None):
            with pytest.raises(IllegalTransition):
                domain.check_transition(current, target, through=other)


def test_payment_pending_is_reached_through_submit_from_open():
    assert domain.RESERVED_TARGETS["payment_pending"] == "submit"
    domain.check_transition("open", "payment_pending", through="submit")


def test_open_is_reached_by_creating_only_never_by_a_transition():
    assert domain.RESERVED_TARGETS["open"] == "create"
    assert [current for current, targets in domain.TRANSITIONS.items() if "open" in targets] == []


def test_payment_pending_is_reachable_only_by_submitting():
    assert [c for c, targets in domain.TRANSITIONS.items() if "payment_pending" in targets] == ["open"]


def test_open_is_never_a_target_of_a_status_change():
    for current in domain.ORDER_STATUSES:
        with pytest.raises(IllegalTransition):
            domain.check_transition(current, "open", through="status")


@pytest.mark.parametrize(
    "status,final", [("completed", True), ("cancelled", True), ("new", False), ("open", False), ("dunning_2", False)]
)
def test_is_final(status, final):
    assert domain.is_final(status) is final


@pytest.mark.parametrize(
    "method,status,payment_status",
    [
        ("invoice", "new", "unpaid"),
        ("prepayment", "new", "unpaid"),
        ("cash_on_delivery", "new", "unpaid"),
        ("card", "payment_pending", "pending"),
        ("paypal", "payment_pending", "pending"),
    ],
)
def test_status_and_payment_status_after_submit(method, status, payment_status):
    assert domain.status_after_submit(method) == status
    assert domain.initial_payment_status(method) == payment_status


# ---------------------------------------------------------------- open orders (sessions)


def test_attached_session_may_edit_open_order():
    domain.check_session_may_edit("open", "sess-1", False, "sess-1")


@pytest.mark.parametrize(
    "status,attached,paused,asking,error",
    [
        ("open", "sess-1", False, "sess-2", SessionMismatch),  # another session
        ("open", None, True, "sess-1", SessionMismatch),  # paused: nobody edits
        ("open", "sess-1", True, "sess-1", SessionMismatch),
        ("open", None, False, "sess-1", SessionMismatch),
        ("new", "sess-1", False, "sess-1", IllegalTransition),  # already submitted
    ],
)
def test_session_edit_refused(status, attached, paused, asking, error):
    with pytest.raises(error):
        domain.check_session_may_edit(status, attached, paused, asking)


def _cart(status="open", paused=False, session_id="sess-1"):
    return SimpleNamespace(status=status, paused=paused, session_id=session_id)


def test_move_sets_the_status_it_allows_and_answers_the_one_left():
    order = SimpleNamespace(status="new")
    assert domain.move(order, "shipped") == "new"
    assert order.status == "shipped"


def test_move_refused_leaves_the_status():
    order = SimpleNamespace(status="open")
    with pytest.raises(IllegalTransition):
        domain.move(order, "new")  # a plain status change does not check out a cart
    assert order.status == "open"
    assert domain.move(order, "new", through="submit") == "open"


def test_pause_takes_the_order_off_its_session():
    order = _cart()
    assert domain.pause(order) == "sess-1"
    assert (order.paused, order.session_id) == (True, None)


@pytest.mark.parametrize(
    "order,message",
    [
        (_cart(status="new"), "Only open orders can be paused; this one is 'new'."),
        (_cart(paused=True, session_id=None), "The order is already paused."),
    ],
)
def test_pause_refused(order, message):
    with pytest.raises(HoldRefused) as refused:
        domain.pause(order)
    assert str(refused.value) == message


def test_assign_gives_a_paused_order_to_a_session():
    order = _cart(paused=True, session_id=None)
    domain.assign(order, "sess-2")
    assert (order.paused, order.session_id) == (False, "sess-2")


@pytest.mark.parametrize(
    "order,message",
    [
        (_cart(status="cancelled", paused=True), "Only open orders can be assigned; this one is 'cancelled'."),
        (_cart(), "Pause the order before assigning it to another session."),
    ],
)
def test_assign_refused(order, message):
    with pytest.raises(HoldRefused) as refused:
        domain.assign(order, "sess-2")
    assert str(refused.value) == message and refused.value.errors == {}


# ---------------------------------------------------------------- customers


def test_reassign_to_the_same_customer_is_refused_naming_the_field():
    domain.check_reassign(7, 8)
    with pytest.raises(CustomerRefused) as refused:
        domain.check_reassign(7, 7)
    assert refused.value.errors == {"customer_id": ["Already the order's customer."]}


def test_merge_rules():
    domain.check_merge(7, 8)
    with pytest.raises(CustomerRefused) as refused:
        domain.check_merge(7, 7)
    assert refused.value.errors == {"into": ["Same as the customer merged."]}
    domain.check_mergeable(7, None)
    with pytest.raises(CustomerRefused) as refused:
        domain.check_mergeable(7, 9)
    assert str(refused.value) == "Customer 7 was already merged into 9." and refused.value.errors == {}
    domain.check_takes_orders(8, None)
    with pytest.raises(CustomerRefused) as refused:
        domain.check_takes_orders(8, 9)
    assert refused.value.errors == {"into": ["A retired customer takes no orders."]}


# ---------------------------------------------------------------- payment read copy


@pytest.mark.parametrize(
    "current,incoming,applies", [(None, 1, True), (None, 0, True), (3, 4, True), (3, 3, False), (3, 2, False)]
)
def test_payment_update_applies_only_when_newer(current, incoming, applies):
    assert domain.payment_update_applies(current, incoming) is applies


def test_taking_a_payment_status_keeps_its_rank_and_sequence():
    order = SimpleNamespace(payment_status="pending", payment_status_rank=2, payment_status_sequence=None)
    assert domain.take_payment_status(order, "paid", 3) == "pending"
    assert (order.payment_status, order.payment_status_rank, order.payment_status_sequence) == (
        "paid",
        domain.PAYMENT_STATUS_RANK["paid"],
        3,
    )


@pytest.mark.parametrize(
    "order_status,payment_status,expected",
    [
        ("payment_pending", "paid", "new"),
        ("payment_pending", "authorized", "new"),
        ("payment_pending", "failed", None),
        ("payment_pending", "pending", None),
        ("new", "paid", None),
        ("cancelled", "paid", None),
    ],
)
def test_status_after_payment(order_status, payment_status, expected):
    assert domain.status_after_payment(order_status, payment_status) == expected


def test_status_after_payment_is_a_legal_move_for_the_payment_operation():
    domain.check_transition(
        "payment_pending", domain.status_after_payment("payment_pending", "paid"), through="payment"
    )


def test_payment_status_rank_covers_every_payment_status():
    assert set(domain.PAYMENT_STATUS_RANK) == set(PAYMENT_STATUSES)
    assert domain.PAYMENT_STATUS_RANK["failed"] < domain.PAYMENT_STATUS_RANK["paid"]


@pytest.mark.parametrize("current", sorted(domain.TRANSITIONS))
def test_status_change_targets_are_exactly_the_moves_a_plain_status_change_may_make(current):
    offered = domain.status_change_targets(current)
    for target in domain.ORDER_STATUSES:
        try:
            domain.check_transition(current, target, through="status")
            allowed = True
        except IllegalTransition:
            allowed = False
        assert (target in offered) == allowed, target
    assert offered == sorted(offered)


def test_a_pending_psp_order_is_offered_cancellation_only():
    assert domain.status_change_targets("payment_pending") == ["cancelled"]
    assert domain.status_change_targets("completed") == []
