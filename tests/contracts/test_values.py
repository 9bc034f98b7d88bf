"""The shared value lists are the only lists: every place that spells them out agrees with them."""

import pytest
from lxml import etree

from exports import serialize, serialize_v2
from gateway.ui.i18n import LANGUAGES as UI_LANGUAGES
from oms_contracts import values
from orders.domain import PAYMENT_STATUS_RANK, TRANSITIONS

XS = {"xs": "http://www.w3.org/2001/XMLSchema"}


SCHEMAS = pytest.mark.parametrize("path", [serialize.SCHEMA_PATH, serialize_v2.SCHEMA_PATH], ids=["v1", "v2"])


def _enumeration(path, type_name):
    schema = etree.parse(str(path))
    return tuple(schema.xpath(f"//xs:simpleType[@name='{type_name}']//xs:enumeration/@value", namespaces=XS))


@SCHEMAS
def test_the_export_schema_accepts_exactly_the_order_statuses(path):
    assert _enumeration(path, "OrderStatus") == values.ORDER_STATUSES


@SCHEMAS
def test_the_export_schema_accepts_every_payment_status(path):
    # partially_paid and disputed orders are exported like any other: the schema must let an ERP read them
    assert _enumeration(path, "PaymentStatus") == values.PAYMENT_STATUSES


def test_every_order_status_has_its_moves_and_every_payment_status_its_rank():
    assert set(TRANSITIONS) == set(values.ORDER_STATUSES)
    assert set(PAYMENT_STATUS_RANK) == set(values.PAYMENT_STATUSES)


def test_methods_split_into_manual_and_psp_without_overlap():
    assert set(values.MANUAL_METHODS) | set(values.PSP_OF_METHOD) == set(values.PAYMENT_METHODS)
    assert not set(values.MANUAL_METHODS) & set(values.PSP_OF_METHOD)


def test_the_staff_ui_names_every_language_in_its_own_tongue():
    assert tuple(UI_LANGUAGES) == values.LANGUAGES
    assert all(UI_LANGUAGES.values())
