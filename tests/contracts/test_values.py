"""The shared value lists are the only lists: every place that spells them out agrees with them."""

from lxml import etree

from exports.serialize import SCHEMA_PATH
from gateway.ui.i18n import LANGUAGES as UI_LANGUAGES
from oms_contracts import values
from orders.domain import PAYMENT_STATUS_RANK, TRANSITIONS

XS = {"xs": "http://www.w3.org/2001/XMLSchema"}


def _enumeration(type_name):
    schema = etree.parse(str(SCHEMA_PATH))
    return tuple(schema.xpath(f"//xs:simpleType[@name='{type_name}']//xs:enumeration/@value", namespaces=XS))


def test_the_export_schema_accepts_exactly_the_order_statuses():
    assert _enumeration("OrderStatus") == values.ORDER_STATUSES


def test_the_export_schema_accepts_every_payment_status():
    # partially_paid and disputed orders are exported like any other: the schema must let an ERP read them
    assert _enumeration("PaymentStatus") == values.PAYMENT_STATUSES


def test_every_order_status_has_its_moves_and_every_payment_status_its_rank():
    assert set(TRANSITIONS) == set(values.ORDER_STATUSES)
    assert set(PAYMENT_STATUS_RANK) == set(values.PAYMENT_STATUSES)


def test_methods_split_into_manual_and_psp_without_overlap():
    assert set(values.MANUAL_METHODS) | set(values.PSP_OF_METHOD) == set(values.PAYMENT_METHODS)
    assert not set(values.MANUAL_METHODS) & set(values.PSP_OF_METHOD)


def test_the_staff_ui_names_every_language_in_its_own_tongue():
    assert tuple(UI_LANGUAGES) == values.LANGUAGES
    assert all(UI_LANGUAGES.values())
