"""Which orders a PSP id names: the order search asks payments (it owns the PSP ids)."""

import pytest

from oms_common.problems import ValidationFailed


def test_a_psp_id_names_the_order_whose_payment_carries_it(payments_service, submit_order, probe, rpc):
    reference = submit_order("card")
    other = submit_order("card")
    psp_id = probe.payment(reference).psp_reference

    assert rpc.payments.orders_for_psp_id(psp_id) == [reference]
    assert rpc.payments.orders_for_psp_id(f"  {psp_id} ") == [reference]
    assert other not in rpc.payments.orders_for_psp_id(psp_id)
    assert rpc.payments.orders_for_psp_id(psp_id[:-1]) == []  # exact ids only, never a pattern
    assert rpc.payments.orders_for_psp_id("%") == []


@pytest.mark.parametrize("bad", ["", "   ", "x" * 121, 17, None])
def test_a_bad_psp_id_is_refused_naming_it(payments_service, rpc, bad):
    with pytest.raises(ValidationFailed) as refused:
        rpc.payments.orders_for_psp_id(bad)

    assert set(refused.value.errors) == {"psp_id"}
