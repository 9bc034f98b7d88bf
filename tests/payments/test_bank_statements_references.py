"""Payment references: the pure derivation (published check-digit examples), every payment
carrying them, the RPCs that answer them and the order they name, and the migration's backfill."""

import importlib.util
import uuid
from pathlib import Path

import pytest
from sqlalchemy import update

from oms_common.payment_references import (
    creditor_reference,
    is_creditor_reference,
    is_qr_reference,
    mod10_recursive,
    qr_reference,
)
from oms_common.problems import NotFound, ValidationFailed
from payments.models import Payment

from .conftest import order_event, wait_for

MIGRATION = Path(__file__).resolve().parents[2] / "services/payments/migrations/versions/0004_bank_statements.py"


def numeric_reference():
    return str(7 * 10**11 + uuid.uuid4().int % 10**11)


@pytest.fixture
def invoice_order(payments_service, dispatch, probe):
    """Announces a submitted invoice order with a numeric reference; waits for its payment."""

    def submit(total="100.00", currency="CHF", method="invoice"):
        reference = numeric_reference()
        dispatch("order_submitted", order_event(reference, method, total, currency))
        wait_for(lambda: probe.payment(reference) is not None, message=f"payment record of {reference}")
        return reference

    return submit


def test_qr_reference_matches_the_published_six_example_and_pads_the_order_digits():
    # SIX QR-bill implementation guidelines, example QR reference 21 00000 00003 13947 14300 09017
    assert mod10_recursive("21000000000313947143000901") == 7
    assert qr_reference("21000000000313947143000901") == "210000000003139471430009017"
    assert qr_reference("100042") == "000000000000000000001000428"
    assert qr_reference("100042") == qr_reference("100042")  # deterministic
    assert qr_reference("INV-100042") == qr_reference("100042")  # the digits of the reference
    assert is_qr_reference("21 00000 00003 13947 14300 09017")
    assert not is_qr_reference("210000000003139471430009018")  # wrong check digit
    assert not is_qr_reference("21000000000313947143000901")  # 26 digits
    with pytest.raises(ValueError):
        qr_reference("ABC")
    with pytest.raises(ValueError):
        qr_reference("1" * 27)


def test_creditor_reference_matches_iso_11649_and_checks_its_digits():
    # ISO 11649's example: RF18 5390 0754 7034
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert is_creditor_reference("RF18 5390 0754 7034")
    assert not is_creditor_reference("RF18539007547035")
    assert creditor_reference("ab-12") == "RF" + creditor_reference("AB12")[2:4] + "AB12"
    for reference in ("100042", "T3F9A0C", "1", "Z" * 21):
        assert is_creditor_reference(creditor_reference(reference))
        assert is_qr_reference(qr_reference(reference + "7"))
    with pytest.raises(ValueError):
        creditor_reference("---")
    with pytest.raises(ValueError):
        creditor_reference("A" * 22)


@pytest.mark.parametrize("order_reference", ["1", "100042", "9" * 21])
def test_both_references_pass_python_stdnums_independent_checks(order_reference):
    from stdnum import iso11649
    from stdnum.ch import esr

    assert esr.is_valid(qr_reference(order_reference))
    assert iso11649.is_valid(creditor_reference(order_reference))


def test_every_payment_carries_its_references_and_they_find_the_order(invoice_order, probe, rpc):
    reference = invoice_order()
    payment = probe.payment(reference)
    assert (payment.qr_reference, payment.creditor_reference) == (
        qr_reference(reference),
        creditor_reference(reference),
    )
    assert rpc.payments.payment_references(reference) == {
        "order_reference": reference,
        "qr_reference": qr_reference(reference),
        "creditor_reference": creditor_reference(reference),
    }
    spaced = " ".join(qr_reference(reference)[i : i + 5] for i in range(0, 27, 5))
    for asked in (spaced, creditor_reference(reference).lower(), reference):
        assert rpc.payments.order_for_payment_reference(asked)["order_reference"] == reference
    with pytest.raises(NotFound):
        rpc.payments.order_for_payment_reference(qr_reference("999999999999999"))
    with pytest.raises(ValidationFailed) as refused:
        rpc.payments.payment_references("")
    assert "order_reference" in refused.value.errors


def test_the_migration_backfills_references_of_existing_payments(invoice_order, probe):
    reference = invoice_order()
    with probe.source.engine.begin() as connection:
        connection.execute(
            update(Payment)
            .where(Payment.order_reference == reference)
            .values(qr_reference=None, creditor_reference=None)
        )
    spec = importlib.util.spec_from_file_location("bank_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with probe.source.engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL search_path TO payments")
        migration._backfill(connection)
    payment = probe.payment(reference)
    assert (payment.qr_reference, payment.creditor_reference) == (
        qr_reference(reference),
        creditor_reference(reference),
    )
