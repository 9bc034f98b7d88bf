"""Reads: a payment with what it may do now, its audit trail, and what the configured providers
can run. Nothing here changes a row."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from oms_common.db import SessionSource
from oms_common.problems import NotFound
from oms_common.settings import setting
from oms_contracts.payments import AuditSchema

from . import domain
from .changes import find_payment, payment_view
from .models import PaymentAudit, WebhookInbox
from .provider_settings import PROVIDER_NAMES, PROVIDER_SETTINGS, not_configured_reason
from .psp import Adapter
from .webhook_inbox import inbox_dump


def provider_configuration(adapters: Mapping[str, Adapter], config: Mapping[str, Any]) -> dict[str, Any]:
    """Which providers can run now and, per payment method, what a PSP method is missing."""
    providers = {}
    for provider in domain.PROVIDERS:
        adapter = adapters.get(provider)
        configured = adapter is None or bool(adapter.configured)
        missing = (
            []
            if configured
            else [name for name in PROVIDER_SETTINGS[provider] if not setting(config, name[len("OMS_") :], "payments")]
        )
        providers[provider] = {
            "name": PROVIDER_NAMES[provider],
            "configured": configured,
            "missing": missing,
            "reason": None if configured else not_configured_reason(provider, missing),
        }
    methods = {method: {"provider": provider, **providers[provider]} for method, provider in domain.PSP_METHODS.items()}
    return {"providers": providers, "methods": methods}


def get_payment(source: SessionSource, reference: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    with source.read_session() as session:
        payment = find_payment(session, reference, lock=False)
        if payment is None:
            raise NotFound(f"No payment for order '{reference}'.")
        view = payment_view(payment, configuration)
        flagged = (
            session.execute(
                select(WebhookInbox)
                .where(WebhookInbox.order_reference == payment.order_reference, WebhookInbox.status == "flagged")
                .order_by(WebhookInbox.id)
                .limit(50)
            )
            .scalars()
            .all()
        )
        view["flagged_events"] = inbox_dump(flagged)
        return view


def payment_history(source: SessionSource, reference: str) -> list[dict[str, Any]]:
    with source.read_session() as session:
        rows = (
            session.execute(
                select(PaymentAudit).where(PaymentAudit.order_reference == str(reference)).order_by(PaymentAudit.id)
            )
            .scalars()
            .all()
        )
        return AuditSchema(many=True).dump(rows)
