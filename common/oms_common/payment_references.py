"""The payment references of an order, derived from its reference alone (pure functions).

Both the invoice's QR-bill (documents) and the matching of bank credits (payments) compute
them here, so the two can never disagree and no table has to be shared:

- ``qr_reference``: the Swiss QR reference (QRR) — the order reference's digits, left-padded
  with zeros to 26, plus the recursive modulo-10 check digit (27 digits); only with a QR-IBAN.
- ``creditor_reference``: the ISO 11649 creditor reference (SCOR) — ``RF``, two check digits
  (ISO 7064 MOD 97-10) and the order reference; with an ordinary IBAN.
"""
import re

_MOD10_TABLE = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)
_SCOR_BODY = re.compile(r"^[A-Z0-9]{1,21}$")


def mod10_recursive(digits: str) -> str:
    """The check digit of the Swiss ESR/QRR scheme (recursive modulo 10)."""
    carry = 0
    for digit in digits:
        carry = _MOD10_TABLE[(carry + int(digit)) % 10]
    return str((10 - carry) % 10)


def qr_reference(order_reference: str) -> str:
    digits = re.sub(r"\D", "", str(order_reference))
    if not digits or len(digits) > 26:
        raise ValueError(f"Order reference {order_reference!r} has no 1 to 26 digits for a QR reference.")
    body = digits.rjust(26, "0")
    return body + mod10_recursive(body)


def _as_number(text: str) -> int:
    return int("".join(str(int(char, 36)) for char in text))


def creditor_reference(order_reference: str) -> str:
    body = re.sub(r"[\s-]", "", str(order_reference)).upper()
    if not _SCOR_BODY.fullmatch(body):
        raise ValueError(f"Order reference {order_reference!r} is not 1 to 21 letters or digits for an RF reference.")
    check = 98 - _as_number(body + "RF00") % 97
    return f"RF{check:02d}{body}"
