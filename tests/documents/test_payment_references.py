"""The order's QR and creditor references: deterministic, and valid by the schemes' own checks."""
import pytest
from stdnum import iso11649
from stdnum.ch import esr

from oms_common.payment_references import creditor_reference, mod10_recursive, qr_reference


def test_a_qr_reference_is_the_padded_digits_with_their_check_digit():
    reference = qr_reference("100042")
    assert reference == "00000000000000000000100042" + mod10_recursive("00000000000000000000100042")
    assert len(reference) == 27 and esr.is_valid(reference)
    assert qr_reference("100042") == reference  # the same order, the same reference, in every service


def test_the_recursive_check_digit_matches_the_published_example():
    # SIX example reference of the QR-bill implementation guidelines
    assert mod10_recursive("21000000000313947143000901") == "7"


@pytest.mark.parametrize("order_reference", ["1", "100042", "99999999999999999999999999"])
def test_every_qr_reference_passes_the_esr_check(order_reference):
    assert esr.is_valid(qr_reference(order_reference))


def test_a_creditor_reference_is_rf_check_digits_and_the_order_reference():
    reference = creditor_reference("100042")
    assert reference.startswith("RF") and reference.endswith("100042") and len(reference) == 10
    assert iso11649.is_valid(reference)
    assert creditor_reference("539007547034") == "RF18539007547034"  # ISO 11649's own example


@pytest.mark.parametrize("bad", ["", "abc", "1" * 27])
def test_no_qr_reference_without_fitting_digits(bad):
    with pytest.raises(ValueError):
        qr_reference(bad)


def test_no_creditor_reference_for_a_body_it_cannot_carry():
    with pytest.raises(ValueError):
        creditor_reference("A" * 22)
