"""What a bank credit (or its reversal) does to a payment: the rules, in plain Python.

Finding the order: the structured reference first (a QR reference or an ISO 11649 creditor
reference, ``RmtInf/Strd/CdtrRefInf/Ref``), else an order reference or invoice number written
in the unstructured remittance text (``RmtInf/Ustrd``). What the money does:

- exactly the open amount (the order's amount and its dunning fees, less what came in) → ``paid``;
- less → ``partially_paid``, with the amount still open;
- more → ``paid`` and flagged as overpaid, with the excess (staff pay it back or keep it);
- in another currency, to a card/PayPal payment, or to a cancelled (voided) or refunded
  payment → not applied: the credit waits in the unmatched list with the reason.

A reversal takes back what its credit had brought: the received amount goes down and the
status follows it (back to ``unpaid`` when nothing is left).
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from oms_common import payment_references

from ..amounts import shown

ZERO = Decimal("0.000")
CREDITABLE = ("unpaid", "announced", "partially_paid", "paid")
MATCHED, PARTIAL, OVERPAID, UNMATCHED = "matched", "partial", "overpaid", "unmatched"
REVERSAL, REVERSED = "reversal", "reversed"
APPLIED = (MATCHED, PARTIAL, OVERPAID)
MAX_TOKENS = 8
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{1,38}[A-Za-z0-9]")


@dataclass(frozen=True)
class PaymentFacts:
    provider: str
    status: str
    currency: str
    amount: Decimal  # what the order costs
    received: Decimal  # what has come in so far (captured)
    order_status: str | None = None
    fees: Decimal = ZERO  # the dunning fees added to what is owed

    @property
    def owed(self):
        return self.amount + self.fees


@dataclass(frozen=True)
class Effect:
    outcome: str  # matched | partial | overpaid | unmatched | reversal
    status: str | None = None  # the payment's new status (None: unchanged)
    received: Decimal | None = None
    open_amount: Decimal = ZERO
    overpaid_amount: Decimal = ZERO
    reason: str | None = None


def reference_kind(reference):
    """'qr_reference', 'creditor_reference' or None for what a structured reference is."""
    if payment_references.is_qr_reference(reference):
        return "qr_reference"
    if payment_references.is_creditor_reference(reference):
        return "creditor_reference"
    return None


def text_tokens(text):
    """Words of a remittance text that could be an order reference or invoice number: at least
    three characters with a digit, in the order written, the first few only."""
    found = []
    for token in _TOKEN.findall(text or ""):
        if any(character.isdigit() for character in token) and token not in found:
            found.append(token)
        if len(found) == MAX_TOKENS:
            break
    return found


def _by_received(status_if_short, amount, received):
    if received >= amount:
        return "paid"
    if received > ZERO:
        return status_if_short
    return "unpaid"


def credit_effect(payment, amount, currency):
    """What a credit of ``amount`` in ``currency`` does to the payment."""
    if payment.provider != "manual":
        return Effect(UNMATCHED, reason=f"The order is paid through {payment.provider}, not by bank transfer.")
    if currency != payment.currency:
        return Effect(UNMATCHED, reason=f"The credit is in {currency}; the order is in {payment.currency}.")
    if payment.status == "voided" or payment.order_status == "cancelled":
        return Effect(UNMATCHED, reason="The order was cancelled; the money must be paid back.")
    if payment.status not in CREDITABLE:
        return Effect(UNMATCHED, reason=f"A payment in status '{payment.status}' takes no bank credit.")
    received = payment.received + amount
    owed = payment.owed
    status = _by_received("partially_paid", owed, received)
    if received > owed:
        return Effect(
            OVERPAID,
            status,
            received,
            overpaid_amount=received - owed,
            reason=f"{shown(received - owed, currency)} more than the order's amount came in.",
        )
    if received < owed:
        return Effect(
            PARTIAL,
            status,
            received,
            open_amount=owed - received,
            reason=f"{shown(owed - received, currency)} is still open.",
        )
    return Effect(MATCHED, status, received)


def reversal_effect(payment, amount):
    """What reversing a credit of ``amount`` that had been applied does to the payment."""
    received = max(payment.received - amount, ZERO)
    owed = payment.owed
    status = _by_received("partially_paid", owed, received)
    return Effect(
        REVERSAL, status, received, open_amount=max(owed - received, ZERO), overpaid_amount=max(received - owed, ZERO)
    )
