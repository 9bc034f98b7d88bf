"""PSP adapters behind one small interface (``base``): Stripe and PayPal, one module each."""

from typing import Any

from ..provider_settings import capture_modes
from .base import Adapter, PspError, PspNotConfigured
from .paypal_adapter import PayPalAdapter
from .stripe_adapter import StripeAdapter

__all__ = ["Adapter", "PayPalAdapter", "PspError", "PspNotConfigured", "StripeAdapter", "build_adapters"]


def build_adapters(config: Any) -> dict[str, Adapter]:
    """The adapters configured for this container (keys: provider names)."""
    modes = capture_modes(
        config.get("PSP_CAPTURE"),
        {"stripe": config.get("PSP_CAPTURE_STRIPE"), "paypal": config.get("PSP_CAPTURE_PAYPAL")},
    )
    return {
        "stripe": StripeAdapter(
            config.get("STRIPE_API_KEY") or None,
            config.get("STRIPE_API_BASE") or None,
            timeout=float(config.get("PSP_TIMEOUT_SECONDS") or 10),
            capture_mode=modes["stripe"],
        ),
        "paypal": PayPalAdapter(
            config.get("PAYPAL_API_BASE") or None,
            config.get("PAYPAL_CLIENT_ID") or None,
            config.get("PAYPAL_CLIENT_SECRET") or None,
            config.get("PAYPAL_WEBHOOK_ID") or None,
            timeout=float(config.get("PSP_TIMEOUT_SECONDS") or 10),
            capture_mode=modes["paypal"],
        ),
    }
