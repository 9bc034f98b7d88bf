"""What the PSP adapters share: the interface, its errors, refund statuses, HTTP retry hints.

Each adapter speaks its provider's wire format and turns the provider's objects and
webhook events into ``psp_reports.PspUpdate``. Every outgoing mutation carries an idempotency
key, so a retried call (after a timeout, a crash or a redelivered event) never charges,
refunds or cancels twice.

    create_payment(reference, amount, currency, key) -> {"psp_reference", "capture_mode", ...}
    capture(payment, key)                            -> PspUpdate (an authorisation captured at shipment)
    retrieve(psp_reference)                          -> PspUpdate | None (lost callbacks, S9)
    refund(payment, amount, key, reason)             -> {"refund_id", "amount", "status"}
    void(payment, key)                               -> {"status"}
    parse_event(event)                               -> (event_id, event_type, PspUpdate | None)
"""

from collections.abc import Mapping
from typing import Any

from ..domain import CAPABILITIES

# A refund's status as either PSP writes it, in OMS's words.
REFUND_STATUS = {
    "succeeded": "succeeded",
    "completed": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "canceled",
    "cancelled": "canceled",
}


class PspError(Exception):
    """The PSP refused (``retryable`` False) or could not be reached (True)."""

    def __init__(self, message: str, retryable: bool = True, retry_after: int | None = None) -> None:
        super().__init__(message + (f" (the PSP asks to retry after {retry_after} s)" if retry_after else ""))
        self.retryable = retryable
        self.retry_after = retry_after


class PspNotConfigured(PspError):
    pass


def refund_status(value: Any) -> str:
    """OMS's status of a refund the PSP reports (pending when it says something else)."""
    return REFUND_STATUS.get(str(value).lower(), "pending")


def retry_after(headers: Mapping[str, Any] | None) -> int | None:
    """Seconds from a Retry-After header (429 / 503), when it gives a number."""
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    try:
        return max(0, int(str(value).strip())) if value is not None else None
    except ValueError:
        return None


def http_error(psp: str, response: Any) -> PspError:
    """A PSP's HTTP error answer as a PspError naming its issues or message; a 5xx or 429 is retryable."""
    try:
        answer = response.json()
        issues = [d.get("issue") for d in answer.get("details") or [] if isinstance(d, dict)]
        detail = ", ".join(i for i in issues if i) or answer.get("message") or response.text[:200]
    except (ValueError, AttributeError):
        detail = response.text[:200]
    return PspError(
        f"{psp}: {response.status_code} {detail}",
        retryable=response.status_code >= 500 or response.status_code == 429,
        retry_after=retry_after(response.headers),
    )


class Adapter:
    name = "abstract"
    capture_mode = "checkout"  # or "on_ship": authorise at checkout, capture when shipped

    @property
    def capabilities(self) -> frozenset[str]:
        return CAPABILITIES[self.name]

    @property
    def configured(self) -> bool:
        return True
