"""Unit tests of the numbering rules (services/orders/orders/numbering_rules.py): no I/O at all."""

import pytest

from orders import numbering_rules
from orders.numbering_rules import InvoiceNumberTaken, NumberingRefused


@pytest.mark.parametrize(
    "start_at,last_issued,expected",
    [
        (100000, None, 100000),  # first number is the start
        (100000, 100000, 100001),
        (100000, 100041, 100042),
        (500000, 100041, 500000),  # a raised start jumps ahead
    ],
)
def test_next_number(start_at, last_issued, expected):
    assert numbering_rules.next_number(start_at, last_issued) == expected


@pytest.mark.parametrize("new_start,last_issued", [(1, None), (5, 4), (1000, 999), (50, None)])
def test_new_start_above_last_issued_is_accepted(new_start, last_issued):
    numbering_rules.check_new_start("invoice_number_start", new_start, last_issued)


@pytest.mark.parametrize("new_start,last_issued", [(0, None), (-3, None), (4, 4), (3, 4)])
def test_new_start_not_above_last_issued_is_refused_naming_the_field(new_start, last_issued):
    with pytest.raises(NumberingRefused) as refused:
        numbering_rules.check_new_start("order_reference_start", new_start, last_issued)
    assert refused.value.field == "order_reference_start"


@pytest.mark.parametrize(
    "last_value, is_called, recorded_last, expected",
    [
        (100000, False, None, (None, 100000)),  # fresh: nothing drawn yet
        (100041, True, None, (100041, 100042)),  # drawn from
        (200000, False, 100041, (100041, 200000)),  # moved to a new start, not drawn from since
    ],
)
def test_sequence_position(last_value, is_called, recorded_last, expected):
    assert numbering_rules.sequence_position(last_value, is_called, recorded_last) == expected


@pytest.mark.parametrize(
    "new_start, next_to_issue, expected",
    [
        (200000, 100042, 200000),  # forward: the sequence moves there
        (100042, 100042, None),  # where it stands already
        (150000, 200000, None),  # a lower start never takes the sequence back
    ],
)
def test_moved_sequence_start_only_moves_forward(new_start, next_to_issue, expected):
    assert numbering_rules.moved_sequence_start(new_start, next_to_issue) == expected


def test_invoice_number_format():
    assert numbering_rules.format_invoice_number("R-", 17) == "R-17"
    assert numbering_rules.format_invoice_number("", 17) == "17"
    assert numbering_rules.format_invoice_number(None, 17) == "17"


def test_external_invoice_number_only_while_generation_is_off():
    with pytest.raises(NumberingRefused) as refused:
        numbering_rules.check_external_invoice_number(True, None, "new")
    assert refused.value.field == "invoice_number"
    with pytest.raises(NumberingRefused):
        numbering_rules.check_external_invoice_number(False, None, "open")
    numbering_rules.check_external_invoice_number(False, None, "new")


def test_an_oms_invoice_number_is_never_replaced_by_an_external_one():
    numbering_rules.check_external_invoice_number(False, "EXT-1", "new", current_is_external=True)
    with pytest.raises(NumberingRefused) as refused:
        numbering_rules.check_external_invoice_number(False, "R-17", "new", current_is_external=False)
    assert refused.value.errors == {"invoice_number": ["Already issued by OMS."]}


def test_an_invoice_number_belongs_to_one_order():
    numbering_rules.check_invoice_number_free("EXT-1", None)
    with pytest.raises(InvoiceNumberTaken) as refused:
        numbering_rules.check_invoice_number_free("EXT-1", "100042")
    assert str(refused.value) == "Invoice number EXT-1 belongs to order 100042."
    assert refused.value.errors == {"invoice_number": ["Already used by another order."]}
    assert str(InvoiceNumberTaken("EXT-1")) == "Invoice number EXT-1 is already used."
