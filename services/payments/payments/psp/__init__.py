"""PSP adapters behind one small interface (``base``): Stripe and PayPal, one module each."""

from typing import Any

from oms_common.settings import setting

from ..provider_settings import capture_modes
from .base import Adapter, PspError, PspNotConfigured
from .paypal_adapter import PayPalAdapter
from .stripe_adapter import StripeAdapter

__all__ = ["Adapter", "PayPalAdapter", "PspError", "PspNotConfigured", "StripeAdapter", "build_adapters"]


def build_adapters(config: Any) -> dict[str, Adapter]:
    """The adapters configured for this container (keys: provider names)."""

    def read(key: str) -> Any:
        return setting(config, key, "payments") or None

    modes = capture_modes(
        read("PSP_CAPTURE"), {"stripe": read("PSP_CAPTURE_STRIPE"), "paypal": read("PSP_CAPTURE_PAYPAL")}
    )
    return {
        "stripe": StripeAdapter(
            read("STRIPE_API_KEY"),
            read("STRIPE_API_BASE"),
            timeout=read("PSP_TIMEOUT_SECONDS"),
            capture_mode=modes["stripe"],
        ),
        "paypal": PayPalAdapter(
            read("PAYPAL_API_BASE"),
            read("PAYPAL_CLIENT_ID"),
            read("PAYPAL_CLIENT_SECRET"),
            read("PAYPAL_WEBHOOK_ID"),
            timeout=read("PSP_TIMEOUT_SECONDS"),
            capture_mode=modes["paypal"],
        ),
    }
