"""Payment references derived from an order reference: the Swiss QR reference and the ISO 11649
creditor reference.

Pure functions: the same order reference always gives the same payment references, so the
invoice that prints them and the bank statement that brings them back agree without sharing
any state.

- QR reference (QRR, SIX QR-bill spec): 27 digits, the order reference's digits left-padded
  with zeros to 26, then a check digit computed with the recursive modulo 10 (as the former
  ESR/ISR reference numbers). Used with a QR-IBAN.
- Creditor reference (SCOR, ISO 11649): ``RF``, two check digits (ISO 7064 MOD 97-10 over the
  reference followed by ``RF00``, letters counted A=10 … Z=35) and the order reference's
  letters and digits, at most 21. Used with an ordinary IBAN.
"""

import re

QR_REFERENCE_LENGTH = 27
CREDITOR_REFERENCE_MAX_BODY = 21
# the table of the recursive modulo 10 (SIX, "Recursive modulo 10 check digit")
_MOD10_TABLE = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)
_SPACES = re.compile(r"\s+")


def mod10_recursive(digits: str) -> int:
    """The check digit the recursive modulo 10 gives for ``digits``."""
    carry = 0
    for digit in digits:
        carry = _MOD10_TABLE[(carry + int(digit)) % 10]
    return (10 - carry) % 10


def qr_reference(order_reference: str) -> str:
    """The 27-digit QR reference of an order: its digits padded to 26, then the check digit.

    ValueError when the order reference has no digit or more than 26 of them.
    """
    digits = "".join(character for character in str(order_reference) if character.isdigit() and character.isascii())
    if not digits:
        raise ValueError(f"The order reference {order_reference!r} has no digits for a QR reference.")
    if len(digits) > QR_REFERENCE_LENGTH - 1:
        raise ValueError(f"The order reference {order_reference!r} has more than 26 digits.")
    body = digits.rjust(QR_REFERENCE_LENGTH - 1, "0")
    return body + str(mod10_recursive(body))


def _iso7064_mod97(text: str) -> int:
    return int("".join(str(int(character, 36)) for character in text)) % 97


def creditor_reference(order_reference: str) -> str:
    """The ISO 11649 creditor reference of an order: ``RF`` + 2 check digits + its reference
    (letters and digits only, upper case).

    ValueError when nothing of the order reference is left, or more than 21 characters.
    """
    body = "".join(
        character for character in str(order_reference).upper() if character.isascii() and character.isalnum()
    )
    if not body:
        raise ValueError(f"The order reference {order_reference!r} has no letters or digits.")
    if len(body) > CREDITOR_REFERENCE_MAX_BODY:
        raise ValueError(f"The order reference {order_reference!r} is longer than 21 characters.")
    check = 98 - _iso7064_mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def compact(reference: str) -> str:
    """A reference as printed (grouped by spaces, any case) in its stored form."""
    return _SPACES.sub("", str(reference or "")).upper()


def is_qr_reference(reference: str) -> bool:
    """True for 27 digits whose last one is the recursive modulo 10 of the others."""
    value = compact(reference)
    return (
        len(value) == QR_REFERENCE_LENGTH
        and value.isascii()
        and value.isdigit()
        and mod10_recursive(value[:-1]) == int(value[-1])
    )


def is_creditor_reference(reference: str) -> bool:
    """True for ``RF`` + two check digits + 1–21 letters or digits that pass MOD 97-10."""
    value = compact(reference)
    if not (5 <= len(value) <= 4 + CREDITOR_REFERENCE_MAX_BODY and value.startswith("RF")):
        return False
    if not (value.isascii() and value.isalnum() and value[2:4].isdigit()):
        return False
    return _iso7064_mod97(value[4:] + value[:4]) == 1
